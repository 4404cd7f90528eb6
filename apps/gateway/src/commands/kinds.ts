/**
 * The command kinds an operator may issue (`POST /api/commands/<kind>`): each one's
 * request body (the command's own data schema, less `operator`, which is always the
 * signed-in user), the role it needs, and how the body becomes the command's subject and
 * data. Subjects follow operator-commands.ts: the lead id for lead commands,
 * `operator:global` for the rest, so a global command and its undo keep their order.
 */
import {
  ApprovalDecisionV1,
  ApprovalModeV1,
  GLOBAL_SUBJECT,
  KillSwitchV1,
  LeadCommandV1,
  LeadId,
  ModelRollbackV1,
  type OperatorCommand,
  PlaybookRetireV1,
  PlaybookUpsertV1,
  VariantCommandV1,
} from "@pw/events";
import { z } from "zod";
import type { Role } from "../config.ts";
import { TEMPLATE_LIMITS, templateProblem } from "./templates.ts";

export type CommandKind = {
  type: OperatorCommand["type"];
  role: Role;
  body: z.ZodType;
  /** The command's subject and its data without `operator`. */
  build(body: unknown): { subject: string; data: Record<string, unknown> };
};

const global = (body: unknown) => ({
  subject: GLOBAL_SUBJECT,
  data: body as Record<string, unknown>,
});

const upsertBody = PlaybookUpsertV1.shape.data
  .omit({ operator: true })
  .strict()
  .superRefine((d, ctx) => {
    for (const field of ["subjectTemplate", "bodyTemplate"] as const) {
      const problem = templateProblem(d[field], TEMPLATE_LIMITS[field]);
      if (problem) ctx.addIssue({ code: "custom", path: [field], message: problem });
    }
  });

export const COMMAND_KINDS = {
  variant: {
    type: "operator.variant_command.v1",
    role: "operator",
    body: VariantCommandV1.shape.data.omit({ operator: true }).strict(),
    build: global,
  },
  lead: {
    type: "operator.lead_command.v1",
    role: "operator",
    body: LeadCommandV1.shape.data.omit({ operator: true }).extend({ leadId: LeadId }).strict(),
    build: (body) => {
      const { leadId, ...data } = body as { leadId: string } & Record<string, unknown>;
      return { subject: leadId, data };
    },
  },
  "kill-switch": {
    type: "operator.kill_switch.v1",
    role: "operator",
    body: KillSwitchV1.shape.data.omit({ operator: true }).strict(),
    build: global,
  },
  "approval-mode": {
    type: "operator.approval_mode.v1",
    role: "operator",
    body: ApprovalModeV1.shape.data.omit({ operator: true, reason: true }).strict(),
    build: global,
  },
  approval: {
    type: "operator.approval_decision.v1",
    role: "operator",
    body: z.strictObject({
      requestId: ApprovalDecisionV1.shape.data.shape.requestId,
      decision: ApprovalDecisionV1.shape.data.shape.decision,
      /** Why (shown in the audit log); carried as the command's `reason`. */
      note: z.string().max(1000).optional(),
    }),
    build: (body) => {
      const { note, ...rest } = body as { note?: string } & Record<string, unknown>;
      return global(note === undefined ? rest : { ...rest, reason: note });
    },
  },
  "playbook-upsert": {
    type: "operator.playbook_upsert.v1",
    role: "admin",
    body: upsertBody,
    build: global,
  },
  "playbook-retire": {
    type: "operator.playbook_retire.v1",
    role: "admin",
    body: PlaybookRetireV1.shape.data.omit({ operator: true }).strict(),
    build: global,
  },
  // An operator, like the kill switch: a rollback is the remedy for a bad online update
  // mid-incident, and it is undone the same way (roll back to the later version).
  "model-rollback": {
    type: "operator.model_rollback.v1",
    role: "operator",
    body: ModelRollbackV1.shape.data.omit({ operator: true }).strict(),
    build: global,
  },
} satisfies Record<string, CommandKind>;

export type CommandKindName = keyof typeof COMMAND_KINDS;
