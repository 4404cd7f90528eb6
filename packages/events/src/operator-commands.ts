/**
 * Topic `operator.commands.v1` — overrides issued through the gateway. Lead
 * commands are keyed by lead id; global ones by `operator:global` so that, for
 * example, a kill switch and its release can never be reordered.
 *
 * Every command carries `auth`: the gateway's signature over the envelope
 * (command-auth.ts, ADR 0009). The field is optional in the schema — adding it kept
 * v1 readable by every consumer — but consumers refuse a command without a valid one.
 */
import { z } from "zod";
import { eventSchema } from "./envelope.ts";
import { Channel } from "./outreach.ts";

/** Who issued it: operators are accountable for every override. */
const issuedBy = { operator: z.string().min(1).max(200), reason: z.string().max(1000).optional() };

/**
 * The signature of the gateway that issued the command (envelope attribute, beside
 * `data`). Loose on purpose: an unknown algorithm or a malformed signature is refused
 * by the consumer and counted, not parked as a poison message.
 */
export const CommandAuth = z.object({
  /** `ed25519` (the only one consumers accept today). */
  alg: z.string().min(1).max(32),
  /** Which of the consumer's configured public keys verifies it (rotation). */
  keyId: z.string().min(1).max(100),
  /** base64url signature over the canonical form of the command (command-auth.ts). */
  sig: z.string().min(1).max(200),
});
export type CommandAuth = z.infer<typeof CommandAuth>;

/** An operator command type: the shared envelope, its data, and the gateway's signature. */
function commandSchema<T extends string, D extends z.ZodType>(type: T, data: D) {
  return eventSchema(type, data).extend({ auth: CommandAuth.optional() });
}

export const VariantCommandV1 = commandSchema(
  "operator.variant_command.v1",
  z.object({
    action: z.enum(["pause", "resume", "revive"]),
    variantId: z.string().min(1).max(100),
    /** Absent: every segment. */
    segment: z.string().min(1).max(100).optional(),
    ...issuedBy,
  }),
);

export const LeadCommandV1 = commandSchema(
  "operator.lead_command.v1",
  z.object({
    action: z.enum(["suppress", "unsuppress", "prioritise", "do_not_contact"]),
    ...issuedBy,
  }),
);

export const KillSwitchV1 = commandSchema(
  "operator.kill_switch.v1",
  z.object({ engaged: z.boolean(), ...issuedBy }),
);

export const ApprovalModeV1 = commandSchema(
  "operator.approval_mode.v1",
  z.object({ enabled: z.boolean(), ...issuedBy }),
);

export const ApprovalDecisionV1 = commandSchema(
  "operator.approval_decision.v1",
  z.object({
    requestId: z.string().min(1).max(200),
    decision: z.enum(["approve", "reject"]),
    ...issuedBy,
  }),
);

export const PlaybookUpsertV1 = commandSchema(
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

export const PlaybookRetireV1 = commandSchema(
  "operator.playbook_retire.v1",
  z.object({ variantId: z.string().min(1).max(100), ...issuedBy }),
);

/**
 * Scoring: score with the weights of an earlier built-in model version again. History is
 * never rewritten — the weights come back as a new version (scoring's model-store.ts).
 */
export const ModelRollbackV1 = commandSchema(
  "operator.model_rollback.v1",
  z.object({ version: z.number().int().min(1).max(2_147_483_647), ...issuedBy }),
);

export const OperatorCommand = z.discriminatedUnion("type", [
  VariantCommandV1,
  LeadCommandV1,
  KillSwitchV1,
  ApprovalModeV1,
  ApprovalDecisionV1,
  PlaybookUpsertV1,
  PlaybookRetireV1,
  ModelRollbackV1,
]);
export type OperatorCommand = z.infer<typeof OperatorCommand>;

/** The key of commands that are not about one lead. */
export const GLOBAL_SUBJECT = "operator:global";
