/**
 * Topic `operator.command_results.v1` — what each service made of an operator command:
 * `applied` or `refused`, with a plain sentence an operator reads in the audit log
 * ("variant roi paused in exec-mid", "not verified (unknown_key): key gw-9 is not
 * configured"). A service publishes one through its own outbox, in the transaction that
 * applies (or refuses) the command, and only for the command types it acts on
 * (`commandServices`); the gateway records every confirmation in its audit log.
 * Keyed like the command (its subject), so a lead's confirmations stay with its commands.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { eventSchema, IsoTime } from "./envelope.ts";
import type { OperatorCommand } from "./operator-commands.ts";

/** The services that act on operator commands. */
export const COMMAND_SERVICES = ["experiments", "dispatch", "scoring"] as const;
export type CommandService = (typeof COMMAND_SERVICES)[number];

export const CommandResultV1 = eventSchema(
  "operator.command_result.v1",
  z.object({
    /** The command's envelope id (the audit log's key). */
    commandId: z.string().min(1).max(200),
    /** The command's type (a string, so a newer command type still decodes). */
    commandType: z.string().min(1).max(100),
    /** Who answers: one confirmation per service the command was meant for. */
    service: z.string().min(1).max(100),
    result: z.enum(["applied", "refused"]),
    /** One plain sentence: what changed, or why nothing did. */
    detail: z.string().min(1).max(1000),
    /**
     * A refusal's code: a CommandRefusal (`unsigned`, `bad_signature`, `unknown_key`…) or the
     * service's own (`no_change`, `not_pending`, `unknown_version`, `invalid_template`…).
     */
    reason: z.string().min(1).max(100).optional(),
    at: IsoTime,
  }),
);
export type CommandResultV1 = z.infer<typeof CommandResultV1>;

export const OperatorCommandResult = z.discriminatedUnion("type", [CommandResultV1]);
export type OperatorCommandResult = z.infer<typeof OperatorCommandResult>;

/**
 * The services a command is meant for — each of them confirms it, and the audit counts it
 * applied once every one has. The kill switch stops both the engine (no new decisions) and
 * dispatch (no sends); a lead's suppression or do-not-contact both too; prioritising a lead
 * is the engine's queue only.
 */
export function commandServices(command: {
  type: OperatorCommand["type"];
  data: unknown;
}): readonly CommandService[] {
  switch (command.type) {
    case "operator.kill_switch.v1":
      return ["experiments", "dispatch"];
    case "operator.lead_command.v1":
      return (command.data as { action?: string }).action === "prioritise"
        ? ["experiments"]
        : ["experiments", "dispatch"];
    case "operator.model_rollback.v1":
      return ["scoring"];
    default:
      return ["experiments"];
  }
}

/**
 * A service's confirmation of `command`. The id is derived from the service, the command
 * and the result, so a redelivered (and again refused) command confirms once.
 */
export function commandResult(
  command: Pick<OperatorCommand, "id" | "type" | "subject" | "traceparent">,
  r: {
    service: CommandService;
    result: "applied" | "refused";
    detail: string;
    reason?: string | undefined;
    at: Date;
  },
): CommandResultV1 {
  const id = createHash("sha256")
    .update(`${r.service}\u0000${command.id}\u0000${r.result}`)
    .digest("hex")
    .slice(0, 32);
  return {
    specversion: "1.0",
    id: `cmdres_${id}`,
    source: `pw://${r.service}`,
    time: r.at.toISOString(),
    subject: command.subject,
    ...(command.traceparent ? { traceparent: command.traceparent } : {}),
    datacontenttype: "application/json",
    type: "operator.command_result.v1",
    data: {
      commandId: command.id,
      commandType: command.type,
      service: r.service,
      result: r.result,
      detail: r.detail.slice(0, 1000),
      ...(r.reason ? { reason: r.reason.slice(0, 100) } : {}),
      at: r.at.toISOString(),
    },
  };
}

/** A refusal's sentence for a command that failed verification (ADR 0009). */
export function unverifiedDetail(reason: string, detail: string): string {
  return `not verified (${reason}): ${detail}`;
}
