/**
 * The ingest's side of `pnpm sim:engine`: each send's outcomes, drawn by the world's
 * recipient model (@pw/simulator), become the `outreach.outcome.v1` events the real
 * ingest would post — a reply with a text the engine's classifier reads as its intent, a
 * bounce with its type — handed to `engine.handleOutcome` at their delayed times on the
 * simulated clock, in time order, with the engine's clock at each event's time.
 */
import { type Rng, seededRng } from "@pw/bandit";
import { envelope, type OutreachOutcome } from "@pw/events";
import { REPLY_INTENTS, replyText, type SendOutcome, TimeQueue } from "@pw/simulator";

type Scheduled = { at: number; leadId: string; requestId: string; outcome: SendOutcome };

export type OutcomeFeedDeps = {
  handleOutcome: (event: OutreachOutcome) => Promise<string>;
  /** Sets the engine's clock (its `now()`). */
  setClock: (at: Date) => void;
  seed: number;
};

export function outcomeFeed({ handleOutcome, setClock, seed }: OutcomeFeedDeps) {
  const queue = new TimeQueue<Scheduled>();
  const texts: Rng = seededRng(seed * 31 + 7); // apart from the world's stream
  const posted: Record<string, number> = {};
  const replies = Object.fromEntries(REPLY_INTENTS.map((i) => [i, 0]));
  const verdicts: Record<string, number> = {};

  async function post({ at, leadId, requestId, outcome: o }: Scheduled) {
    setClock(new Date(at));
    posted[o.kind] = (posted[o.kind] ?? 0) + 1;
    if (o.intent) replies[o.intent]!++;
    const verdict = await handleOutcome(
      envelope({
        type: "outreach.outcome.v1",
        source: "pw://sim",
        subject: leadId,
        data: {
          outcome: o.kind,
          occurredAt: new Date(at).toISOString(),
          requestId,
          ...(o.intent ? { replyText: replyText(o.intent, texts) } : {}),
          ...(o.bounceType ? { bounceType: o.bounceType } : {}),
        },
      }) as OutreachOutcome,
    );
    verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
  }

  return {
    /** A send's outcomes, due at `sentAt` plus each one's delay. */
    schedule(sentAt: Date, leadId: string, requestId: string, outcomes: SendOutcome[]) {
      for (const outcome of outcomes) {
        const at = sentAt.getTime() + outcome.afterHours * 3_600_000;
        queue.push(at, { at, leadId, requestId, outcome });
      }
    },
    /** Posts every outcome due by `until`, in time order. */
    async postUntil(until: Date) {
      for (const s of queue.popUntil(until.getTime())) await post(s);
      setClock(until);
    },
    /** When the next outcome is due (undefined: none waiting). */
    nextAt: () => queue.peekAt(),
    summary: () => ({ posted, replies, verdicts }),
  };
}
