/**
 * Playbook templates: the `{{slot}}`s an operator may write, their neutral fallbacks, and
 * the one parser that checks and renders them — shared by the engine (which renders
 * requests and checks upserts) and the gateway (which previews and checks an edit before
 * signing it), so both say the same about the same template.
 */
import type { PersonalisationFacts } from "./lead-scored.ts";

/** A neutral phrase for each slot, so a missing fact never leaves a hole or an "undefined". */
const FALLBACKS = {
  firstName: "there",
  company: "your team",
  industry: "B2B",
  painPoint: "manual follow-up",
  trigger: "looked at us",
  role: "your role",
} as const satisfies Partial<Record<keyof PersonalisationFacts, string>>;

type Slot = keyof typeof FALLBACKS;

/**
 * The only slots a template may name: facts we mean to put in an email, each with a
 * neutral fallback. Not `email` or `timezone`, and nothing inherited (`{{constructor}}`).
 */
export const TEMPLATE_SLOTS = Object.keys(FALLBACKS) as Slot[];
const isSlot = (name: string): name is Slot => Object.hasOwn(FALLBACKS, name);

/** Thrown for a template that names an unknown slot or has a malformed one. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

type Part = { text: string } | { slot: Slot };

/**
 * Splits a template into text and slots by scanning for `{{`/`}}` (no regex over the
 * operator's text). A slot is `{{name}}` with no spaces; any other use of the braces
 * is malformed — sent as is, it would show the lead raw template syntax.
 */
function parse(template: string): Part[] {
  const parts: Part[] = [];
  let at = 0;
  for (;;) {
    const open = template.indexOf("{{", at);
    const stray = template.indexOf("}}", at);
    if (open === -1) {
      if (stray !== -1) throw new TemplateError(`malformed slot: "}}" without "{{" at ${stray}`);
      parts.push({ text: template.slice(at) });
      return parts;
    }
    if (stray !== -1 && stray < open)
      throw new TemplateError(`malformed slot: "}}" without "{{" at ${stray}`);
    const close = template.indexOf("}}", open + 2);
    if (close === -1) throw new TemplateError(`malformed slot: "{{" without "}}" at ${open}`);
    const name = template.slice(open + 2, close);
    if (!/^\w+$/.test(name))
      throw new TemplateError(`malformed slot {{${name.slice(0, 40)}}} at ${open}: write {{name}}`);
    if (!isSlot(name))
      throw new TemplateError(
        `unknown slot {{${name.slice(0, 40)}}} (allowed: ${TEMPLATE_SLOTS.join(", ")})`,
      );
    parts.push({ text: template.slice(at, open) }, { slot: name });
    at = close + 2;
  }
}

/**
 * Why a template cannot be accepted, or undefined: an unknown or malformed slot, or a
 * template longer than `maxLength` even as it reads for a lead we know nothing about
 * (every slot its neutral phrase) — it would fail for every lead. Checked when an
 * operator upserts a variant, so a bad template is refused before it reaches a lead. A
 * lead whose facts are long enough to push one rendering over the limit fails only
 * that decision, with the reason.
 */
export function templateProblem(template: string, maxLength: number): string | undefined {
  let parts: Part[];
  try {
    parts = parse(template);
  } catch (error) {
    if (error instanceof TemplateError) return error.message;
    throw error;
  }
  const length = parts.reduce(
    (n, p) => n + ("slot" in p ? FALLBACKS[p.slot].length : p.text.length),
    0,
  );
  return length > maxLength
    ? `renders longer than ${maxLength} characters (${length}) before any fact is filled in`
    : undefined;
}

/** The slots a template names, in order of first use; throws a TemplateError. */
export function slotsOf(template: string): Slot[] {
  return [...new Set(parse(template).flatMap((p) => ("slot" in p ? [p.slot] : [])))];
}

/**
 * Fills `{{slot}}`s from the lead's facts; a missing or blank fact gets a neutral
 * phrase, never "undefined". Throws a TemplateError for a slot outside TEMPLATE_SLOTS
 * or a malformed one (a template stored before upserts were checked): the decision
 * that needed it fails with that reason, rather than a lead getting a broken email.
 */
export function render(template: string, facts: { readonly [fact: string]: unknown }): string {
  let out = "";
  for (const part of parse(template)) {
    if ("text" in part) {
      out += part.text;
      continue;
    }
    const value = Object.hasOwn(facts, part.slot) ? facts[part.slot] : undefined;
    out += typeof value === "string" && value.trim() ? value : FALLBACKS[part.slot];
  }
  return out;
}
