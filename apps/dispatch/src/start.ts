/**
 * `startDispatch(config, deps?)`: outreach dispatch as a service — requests become durable
 * sends, each put through the policy and handed to the outreach agent exactly once,
 * follow-ups fired on their cadence and stopped the moment the lead answers or opts out,
 * every verdict on `outreach.dispatched.v1`, sends written back to Lightfield. `main.ts`,
 * the tests, the benchmark and the one-process demo all start it here.
 */
import * as schema from "@pw/db/dispatch";
import { Topics } from "@pw/events";
import { createLightfieldClient } from "@pw/lightfield";
import type { AgentPort } from "@pw/outreach-agent/contract";
import { runService, type SharedDeps } from "@pw/service";
import { agentFor } from "./agent.ts";
import { type Clock, scaledClock } from "./clock.ts";
import { type DispatchConfig, dispatchConfig } from "./config.ts";
import { consentBuilder } from "./consent.ts";
import { lightfieldWriter } from "./lightfield.ts";
import { sendOf } from "./requests.ts";
import { senderBuilder } from "./sender.ts";
import { insertSends, killSwitch, pruneCaps } from "./store.ts";
import { writebackBuilder } from "./writeback.ts";

export type DispatchDeps = SharedDeps & {
  /** Tests: a clock moved by hand (default: the wall clock, scaled by DISPATCH_CLOCK_SCALE). */
  clock?: Clock;
  random?: () => number;
  /** The one-process demo: the agent it already runs (default: from the config). */
  agent?: AgentPort;
};

export async function startDispatch(
  config: DispatchConfig = dispatchConfig(),
  deps: DispatchDeps = {},
) {
  return runService({
    name: "dispatch",
    config,
    deps,
    build: async (kit) => {
      const clock = deps.clock ?? scaledClock(config.clockScale);
      const { relay } = kit.messaging({
        outbox: schema.dispatchOutbox,
        inbox: schema.dispatchInbox,
      });
      const agent = deps.agent
        ? { port: deps.agent, provider: "local" as const, owned: false }
        : await agentFor(config, kit);
      if (agent.owned) kit.onStop("outreach-agent", () => agent.port.close());
      kit.check("outreach_agent", async () =>
        agent.provider === "truefoundry"
          ? { status: "ok" }
          : {
              status: "not_configured",
              reason: "TRUEFOUNDRY_AGENT_URL unset: the agent runs in-process",
            },
      );

      const lf = config.lightfield;
      const writeback = lf
        ? writebackBuilder({
            db: kit.db,
            clock,
            kind: lf.kind === "task" ? "task" : "note",
            assignee: lf.assignee,
            client: lightfieldWriter(
              createLightfieldClient({ baseUrl: lf.baseUrl, apiKey: lf.apiKey }),
            ),
            logger: kit.logger.child({ component: "lightfield-writeback" }),
            metrics: kit.metrics,
          })
        : undefined;
      kit.check("lightfield_writeback", async () =>
        writeback
          ? { status: "ok" }
          : {
              status: "not_configured",
              reason: "LIGHTFIELD_API_KEY unset or LIGHTFIELD_WRITEBACK=off",
            },
      );
      if (writeback) {
        kit.every("lightfield-writeback", lf!.everyMs, writeback.drain);
        kit.beforeScrape(writeback.gauge);
      }

      const sender = senderBuilder({
        db: kit.db,
        clock,
        config,
        agent: agent.port,
        provider: agent.provider,
        logger: kit.logger.child({ component: "sender" }),
        metrics: kit.metrics,
        writeback: writeback?.planner,
        ...(deps.random ? { random: deps.random } : {}),
      });

      // Up to `rounds` rounds at once per instance (their claims never overlap); a wake-up
      // while all are busy makes one of them go round once more.
      const loops = new Set<Promise<void>>();
      let again = false;
      let stopped = false;
      const loop = async () => {
        try {
          do {
            again = false;
            const r = await sender.round();
            if (r.claimed + r.held > 0) relay.notify();
            // A full batch means more are due now.
            if (r.claimed >= config.sending.batch) again = true;
          } while (again && !stopped);
        } catch (error) {
          kit.logger.error({ err: error }, "send round failed; retrying on the next tick");
        }
      };
      const wake = (): Promise<void> => {
        if (stopped) return Promise.resolve();
        if (loops.size >= config.sending.rounds) {
          again = true;
          return Promise.all(loops).then(() => undefined);
        }
        const running: Promise<void> = loop().finally(() => loops.delete(running));
        loops.add(running);
        // A second loop joins while the first finds a full batch.
        return running;
      };
      const running = () => Promise.all(loops);
      kit.onStop("sender", async () => {
        stopped = true;
        await running();
      });
      kit.every("due-sends", config.sending.pollMs, wake);
      kit.every("prune-caps", 3_600_000, () => pruneCaps(kit.db, clock.now()));
      const killed = kit.metrics.gauge(
        "pw_dispatch_kill_switch",
        "1 while the kill switch holds every send",
      );
      kit.beforeScrape(async () => void killed.set((await killSwitch(kit.db))?.engaged ? 1 : 0));

      const consent = consentBuilder({
        db: kit.db,
        clock,
        provider: agent.provider,
        auth: config.operatorCommands,
      });
      if (config.operatorCommands.keys.size === 0)
        kit.logger.warn(
          "OPERATOR_COMMAND_PUBLIC_KEYS is not set: operator commands (kill switch, do-not-contact, suppress) will be refused by dispatch too (docs/adr/0009-operator-command-auth.md).",
        );

      await kit.subscribe({
        topic: Topics.outreachRequested,
        handler: async () => "unused",
        batch: {
          maxSize: 500,
          handler: async (events) => {
            const now = clock.now();
            const inserted = await kit.db.transaction((tx) =>
              insertSends(
                tx,
                events.map((e) => sendOf(e, now)),
                now,
              ),
            );
            setImmediate(() => void wake());
            return events.map(() => (inserted > 0 ? "scheduled" : "duplicate"));
          },
        },
      });
      await kit.subscribe({
        topic: Topics.outreachOutcomes,
        handler: (event) => consent.handleOutcome(event),
      });
      await kit.subscribe({
        topic: Topics.leadConsent,
        handler: (event) => consent.handleConsent(event),
      });
      await kit.subscribe({
        topic: Topics.operatorCommands,
        handler: async (event, ctx) => {
          const r = await consent.handleCommand(event);
          if (r.result === "unauthenticated")
            ctx.log.warn(
              {
                commandType: event.type,
                reason: r.reason,
                detail: r.detail,
                claimedOperator: event.data.operator,
              },
              "operator command refused",
            );
          if (r.result === "kill_switch_released") setImmediate(() => void wake());
          return r.result;
        },
      });
      return { sender, wake, clock, relay, writeback };
    },
  });
}
export { dispatchConfig } from "./config.ts";
export type RunningDispatch = Awaited<ReturnType<typeof startDispatch>>;
