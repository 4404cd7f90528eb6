/**
 * Topic `operator.commands.v1` — overrides issued through the gateway. Lead
 * commands are keyed by lead id; global ones by `operator:global` so that, for
 * example, a kill switch and its release can never be reordered.
 */
import { z } from "zod";
import { eventSchema } from "./envelope.ts";
import { Channel } from "./outreach.ts";

/** Who issued it: operators are accountable for every override. */
const issuedBy = { operator: z.string().min(1).max(200), reason: z.string().max(1000).optional() };

export const VariantCommandV1 = eventSchema(
  "operator.variant_command.v1",
  z.object({
    action: z.enum(["pause", "resume", "revive"]),
    variantId: z.string().min(1).max(100),
    /** Absent: every segment. */
    segment: z.string().min(1).max(100).optional(),
    ...issuedBy,
  }),
);

export const LeadCommandV1 = eventSchema(
  "operator.lead_command.v1",
  z.object({
    action: z.enum(["suppress", "unsuppress", "prioritise", "do_not_contact"]),
    ...issuedBy,
  }),
);

export const KillSwitchV1 = eventSchema(
  "operator.kill_switch.v1",
  z.object({ engaged: z.boolean(), ...issuedBy }),
);

export const ApprovalModeV1 = eventSchema(
  "operator.approval_mode.v1",
  z.object({ enabled: z.boolean(), ...issuedBy }),
);

export const ApprovalDecisionV1 = eventSchema(
  "operator.approval_decision.v1",
  z.object({
    requestId: z.string().min(1).max(200),
    decision: z.enum(["approve", "reject"]),
    ...issuedBy,
  }),
);

export const PlaybookUpsertV1 = eventSchema(
  "operator.playbook_upsert.v1",
  z.object({
    variantId: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[a-z0-9_-]+$/, "lowercase letters, digits, _ and -"),
    channel: Channel,
    angle: z.string().min(1).max(100),
    subjectTemplate: z.string().max(500),
    bodyTemplate: z.string().min(1).max(20_000),
    cadenceStep: z.number().int().min(0).max(20).default(0),
    /** Follow-up steps: days after the previous step. */
    delayDays: z.number().int().min(0).max(90).default(0),
    /** A follow-up written for one first-touch variant (absent: follows any). */
    parentVariantId: z.string().min(1).max(100).optional(),
    ...issuedBy,
  }),
);

export const PlaybookRetireV1 = eventSchema(
  "operator.playbook_retire.v1",
  z.object({ variantId: z.string().min(1).max(100), ...issuedBy }),
);

export const OperatorCommand = z.discriminatedUnion("type", [
  VariantCommandV1,
  LeadCommandV1,
  KillSwitchV1,
  ApprovalModeV1,
  ApprovalDecisionV1,
  PlaybookUpsertV1,
  PlaybookRetireV1,
]);
export type OperatorCommand = z.infer<typeof OperatorCommand>;

/** The key of commands that are not about one lead. */
export const GLOBAL_SUBJECT = "operator:global";
