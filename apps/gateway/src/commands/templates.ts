/**
 * The gateway's side of playbook templates: the limits of what a rendered request may hold
 * and the sample lead a preview renders for. Parsing, checking and rendering are the
 * engine's own (`@pw/events` templates), so the editor says exactly what the engine will.
 */
import type { TEMPLATE_SLOTS } from "@pw/events";

export { render, slotsOf, TEMPLATE_SLOTS, TemplateError, templateProblem } from "@pw/events";

type Slot = (typeof TEMPLATE_SLOTS)[number];

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
