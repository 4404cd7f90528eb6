/**
 * Playbook templates for the preview and for checking an upsert before it is signed: the
 * same six `{{slot}}`s, fallbacks and parsing as apps/experiments/src/playbook.ts (mirrored,
 * not imported — the gateway depends on no other app). The engine checks again on upsert;
 * this copy only lets the editor say what is wrong before anything is published.
 */
import type { PersonalisationFacts } from "@pw/events";

const FALLBACKS = {
  firstName: "there",
  company: "your team",
  industry: "B2B",
  painPoint: "manual follow-up",
  trigger: "looked at us",
  role: "your role",
} as const satisfies Partial<Record<keyof PersonalisationFacts, string>>;

type Slot = keyof typeof FALLBACKS;
export const TEMPLATE_SLOTS = Object.keys(FALLBACKS) as Slot[];
const isSlot = (name: string): name is Slot => Object.hasOwn(FALLBACKS, name);

/** What a rendered request may hold (outreach.requested.v1's subject and body). */
export const TEMPLATE_LIMITS = { subjectTemplate: 500, bodyTemplate: 20_000 } as const;

/** The lead a preview renders for when the editor gives none. */
export const SAMPLE_FACTS: Partial<Record<Slot, string>> = {
  firstName: "Ada",
  company: "Acme Robotics",
  role: "VP Engineering",
  industry: "SaaS",
  trigger: "requested a demo",
  painPoint: "slow follow-up",
};

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

type Part = { text: string } | { slot: Slot };

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

/** Why a template cannot be accepted (unknown/malformed slot, too long even unfilled), or undefined. */
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

/** The slots a template names, in order of first use. */
export function slotsOf(template: string): Slot[] {
  return [...new Set(parse(template).flatMap((p) => ("slot" in p ? [p.slot] : [])))];
}

/** Fills `{{slot}}`s; a missing or blank fact gets the neutral phrase. Throws TemplateError. */
export function render(template: string, facts: Partial<Record<string, string>>): string {
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
