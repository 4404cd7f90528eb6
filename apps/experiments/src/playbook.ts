/**
 * The default email playbook — five first-touch angles (the experiment's arms),
 * two follow-up steps, and the nurture track — and the template renderer with its
 * allow-list of slots.
 */
import type { PersonalisationFacts } from "@pw/events";

export type Variant = {
  variantId: string;
  channel: "email" | "linkedin" | "slack" | "in_app";
  angle: string;
  subjectTemplate: string;
  bodyTemplate: string;
  cadenceStep: number;
  delayDays?: number;
  parentVariantId?: string | null;
  track?: "experiment" | "nurture";
};

export const NURTURE_VARIANT = "nurture_digest";

export const DEFAULT_PLAYBOOK: Variant[] = [
  {
    variantId: "pain_point",
    channel: "email",
    angle: "pain_point",
    subjectTemplate: "{{company}} and {{painPoint}}",
    bodyTemplate:
      "Hi {{firstName}},\n\nTeams like {{company}} tell us {{painPoint}} costs them most. We fix exactly that — worth 15 minutes?",
    cadenceStep: 0,
  },
  {
    variantId: "social_proof",
    channel: "email",
    angle: "social_proof",
    subjectTemplate: "How teams like {{company}} grew pipeline",
    bodyTemplate:
      "Hi {{firstName}},\n\n300+ {{industry}} teams run their follow-up on us. Happy to show you how the best of them do it.",
    cadenceStep: 0,
  },
  {
    variantId: "roi",
    channel: "email",
    angle: "roi",
    subjectTemplate: "A 3× return for {{company}}?",
    bodyTemplate:
      "Hi {{firstName}},\n\nCustomers see 3× pipeline per rep within a quarter. Since you {{trigger}}, here is the math for {{company}}.",
    cadenceStep: 0,
  },
  {
    variantId: "short_question",
    channel: "email",
    angle: "short_question",
    subjectTemplate: "Quick question, {{firstName}}",
    bodyTemplate: "Hi {{firstName}} — who owns follow-up speed at {{company}}?",
    cadenceStep: 0,
  },
  {
    variantId: "case_study",
    channel: "email",
    angle: "case_study",
    subjectTemplate: "Case study: {{industry}} team, 40% faster to close",
    bodyTemplate:
      "Hi {{firstName}},\n\nA {{industry}} team like yours cut time-to-close by 40%. Two-page case study attached; want the walkthrough?",
    cadenceStep: 0,
  },
  {
    variantId: "follow_up_bump",
    channel: "email",
    angle: "bump",
    subjectTemplate: "Re: {{company}}",
    bodyTemplate:
      "Hi {{firstName}}, floating this back up in case it got buried. Worth a short call this week?",
    cadenceStep: 1,
    delayDays: 3,
  },
  {
    variantId: "follow_up_breakup",
    channel: "email",
    angle: "breakup",
    subjectTemplate: "Should I close the loop, {{firstName}}?",
    bodyTemplate:
      "Hi {{firstName}}, I have not heard back, so I will assume the timing is off for {{company}}. If that changes, just reply to this thread.",
    cadenceStep: 2,
    delayDays: 7,
  },
  {
    variantId: NURTURE_VARIANT,
    channel: "email",
    angle: "nurture",
    subjectTemplate: "What {{industry}} teams learned about follow-up this month",
    bodyTemplate:
      "Hi {{firstName}},\n\nA short monthly read: three things the fastest {{industry}} sales teams changed this month. No pitch — reply any time if you want to talk.",
    cadenceStep: 0,
    track: "nurture",
  },
];

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

/**
 * Fills `{{slot}}`s from the lead's facts; a missing or blank fact gets a neutral
 * phrase, never "undefined". Throws a TemplateError for a slot outside TEMPLATE_SLOTS
 * or a malformed one (a template stored before upserts were checked): the decision
 * that needed it fails with that reason, rather than a lead getting a broken email.
 */
export function render(template: string, facts: PersonalisationFacts): string {
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
