/**
 * The demo's running tally on the terminal: leads scored, messages sent, what the
 * recipients did, what the engine learned (suppressions, guardrail pauses) — a line when
 * something changed, at most every 10 s, read off the bus like any other consumer.
 */
import type { Subscription } from "@pw/bus";
import type { RunningDemo } from "./demo.ts";

export type Tally = {
  scored: Set<string>;
  sent: number;
  followUps: number;
  outcomes: Record<string, number>;
  suppressed: number;
  paused: number;
};

/** "1 meeting", "2 meetings", "0 bounces": the count with its noun in the right number. */
function n(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function describeTally(t: Tally): string {
  const o = (k: string) => t.outcomes[k] ?? 0;
  return [
    `${n(t.scored.size, "lead")} scored`,
    `${n(t.sent, "first touch", "first touches")} sent (+${n(t.followUps, "follow-up")})`,
    `${o("opened")} opened`,
    n(o("replied"), "reply", "replies"),
    n(o("meeting_booked"), "meeting"),
    n(o("converted"), "conversion"),
    n(o("bounced"), "bounce"),
    n(o("unsubscribed"), "unsubscribe"),
    `${n(t.suppressed, "variant")} suppressed`,
    `${t.paused} paused by a guardrail`,
  ].join(" · ");
}

export function watchProgress(demo: RunningDemo, say: (line: string) => void) {
  const tally: Tally = {
    scored: new Set(),
    sent: 0,
    followUps: 0,
    outcomes: {},
    suppressed: 0,
    paused: 0,
  };
  const subscriptions: Promise<Subscription>[] = [];
  const follow = <T>(topic: string, handler: (e: T) => void) =>
    subscriptions.push(
      demo.stack.bus.subscribe({
        groupId: "demo-progress",
        topic,
        decode: (v) => v as T,
        handler: async (e) => handler(e),
      }),
    );
  follow<{ subject: string }>("lead.scored.v1", (e) => tally.scored.add(e.subject));
  follow<{ data: { status: string; cadenceStep: number } }>("outreach.dispatched.v1", (e) => {
    if (e.data.status !== "sent") return;
    if (e.data.cadenceStep === 0) tally.sent++;
    else tally.followUps++;
  });
  follow<{ data: { outcome?: string } }>("outreach.outcomes.v1", (e) => {
    if (e.data.outcome) tally.outcomes[e.data.outcome] = (tally.outcomes[e.data.outcome] ?? 0) + 1;
  });
  follow<{ type: string; data: { to?: string } }>("experiment.updates.v1", (e) => {
    if (e.type !== "experiment.variant_status_changed.v1") return;
    if (e.data.to === "suppressed") tally.suppressed++;
    if (e.data.to === "paused") tally.paused++;
  });
  let last = "";
  const timer = setInterval(() => {
    const line = describeTally(tally);
    if (line !== last) say(`  ${new Date().toLocaleTimeString()}  ${line}`);
    last = line;
  }, 10_000);
  return {
    tally,
    async stop() {
      clearInterval(timer);
      for (const s of await Promise.all(subscriptions)) await s.close();
    },
  };
}
