/**
 * The simulated inbox: instead of sending, store exactly what the lead would have
 * received — the same rendering as the live driver of the channel (render.ts) — in
 * `agent.inbox`, where the dashboard shows it. The provider id is `sim-<row id>`.
 */
import type { Db } from "@pw/db";
import { agentInbox } from "@pw/db/agent";
import { isTransient } from "@pw/resilience";
import type { AgentChannel } from "../contract.ts";
import { renderFor, type Sender } from "../render.ts";
import { type ChannelDriver, TransientDriverError } from "./types.ts";

export function createSimulatedDriver(
  channel: AgentChannel,
  deps: { db: Db; sender: Sender; now?: () => Date },
): ChannelDriver {
  const now = deps.now ?? (() => new Date());
  return {
    channel,
    kind: "simulated",
    async send(message) {
      const rendered = renderFor(message, deps.sender);
      try {
        const [row] = await deps.db
          .insert(agentInbox)
          .values({
            dispatchId: message.dispatchId,
            leadId: message.leadId,
            channel: message.channel,
            to: message.to,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            headers: rendered.headers,
            at: now(),
          })
          .returning({ id: agentInbox.id });
        return { providerMessageId: `sim-${row!.id}` };
      } catch (error) {
        if (isTransient(error))
          throw new TransientDriverError(
            `simulated inbox unavailable: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        throw error;
      }
    },
    async sendMany(messages) {
      try {
        const rows = await deps.db
          .insert(agentInbox)
          .values(
            messages.map((message) => {
              const rendered = renderFor(message, deps.sender);
              return {
                dispatchId: message.dispatchId,
                leadId: message.leadId,
                channel: message.channel,
                to: message.to,
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
                headers: rendered.headers,
                at: now(),
              };
            }),
          )
          .returning({ id: agentInbox.id, dispatchId: agentInbox.dispatchId });
        const ids = new Map(rows.map((r) => [r.dispatchId, r.id]));
        return messages.map((m) => ({ providerMessageId: `sim-${ids.get(m.dispatchId)}` }));
      } catch (error) {
        if (isTransient(error))
          throw new TransientDriverError(
            `simulated inbox unavailable: ${(error as Error).message}`,
            { cause: error },
          );
        throw error;
      }
    },
    check: async () => ({ status: "ok", reason: "simulated inbox (nothing is sent)" }),
  };
}
