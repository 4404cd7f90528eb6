/**
 * The recipients' side of the demo: for every first touch dispatch sends, what the lead
 * does with it — delivered, opened, clicked, a reply in words (positive, objection,
 * out-of-office, an unsubscribe request), a meeting, a deal, a bounce, the unsubscribe
 * link — drawn from a world file's rates for the lead's segment and the variant sent
 * (`@pw/simulator` recipients.ts, the model `pnpm sim` uses), each at its delay on the demo
 * clock, and reported as a provider would: a signed webhook to ingest's
 * `/webhooks/outcomes`, or a one-click POST to the unsubscribe link the mail carried.
 *
 * It only reads the bus (outreach.requested for the segment, outreach.dispatched for the
 * send) and talks to ingest over HTTP, so it plays the same part beside the one-process
 * demo and beside `pnpm stack` on Kafka. Outcomes still waiting when it stops are
 * forgotten (the recipients of a stopped demo never answer); each webhook has a stable id,
 * so a retry after a timeout is a duplicate at ingest, not a second outcome.
 */
import { seededRng } from "@pw/bandit";
import type { Bus, Subscription } from "@pw/bus";
import { signUnsubscribeToken } from "@pw/events";
import { signed } from "@pw/ingest/sign-request";
import type { Logger } from "@pw/logger";
import {
  detailRng,
  drawSend,
  type OutcomeKind,
  recipientModel,
  replyText,
  type SendOutcome,
  type World,
} from "@pw/simulator";

export type RecipientSimulatorOptions = {
  bus: Bus;
  /** Ingest's base URL (http://127.0.0.1:4100). */
  ingestUrl: string;
  /** Ingest's Standard Webhooks secret (`whsec_…`). */
  webhookSecret: string;
  world: World;
  /** How much faster than the wall clock the demo runs: a world's hour takes 3600 / scale s. */
  clockScale: number;
  /** Dispatch's unsubscribe secret: an opt-out by link is a POST to the link in the mail. */
  unsubscribeSecret?: string | undefined;
  seed?: number;
  /** Consumer group (one per simulator, so it reads every send once). */
  groupId?: string;
  logger?: Logger;
};

export type RecipientStats = {
  /** First touches the recipients received (and will answer or ignore). */
  sends: number;
  /** Outcomes reported to ingest, by kind. */
  reported: Partial<Record<OutcomeKind, number>>;
  /** Outcomes waiting for their time. */
  pending: number;
  /** Reports ingest refused for good (4xx other than 429): a bug, logged with the reason. */
  refused: number;
  /** Sends of a segment or variant the world does not know (nobody answers them). */
  unknown: number;
};

type Request = { leadId: string; segment: string; variantId: string; channel: string };

/** The world's segment for an engine segment: the same name, else one named inside it, else the first. */
export function worldSegmentFor(world: World, segment: string): string {
  const names = world.segments.map((s) => s.name);
  if (names.includes(segment)) return segment;
  const parts = segment.split(/[-_:]/);
  return names.find((n) => parts.includes(n)) ?? names[0]!;
}

const MAX_ATTEMPTS = 8;

export async function startRecipientSimulator(o: RecipientSimulatorOptions) {
  const log = o.logger?.child({ component: "recipients" });
  const model = recipientModel(o.world);
  const seed = o.seed ?? 7;
  const draw = seededRng(seed);
  const requests = new Map<string, Request>();
  /** Dispatched before its request was read (separate subscriptions, no order between them). */
  const early = new Map<string, { at: string }>();
  const timers = new Set<NodeJS.Timeout>();
  const stats: RecipientStats = { sends: 0, reported: {}, pending: 0, refused: 0, unknown: 0 };
  let stopped = false;
  // Aborts the reports in flight when the simulator stops: a stopped demo's recipients
  // do not keep ingest's connections busy while it shuts down.
  const halt = new AbortController();
  let leadNumber = 0;

  const hoursToMs = (h: number) => Math.max(0, (h * 3_600_000) / o.clockScale);

  async function post(path: string, body: string, webhookId: string): Promise<void> {
    for (let attempt = 1; !stopped; attempt++) {
      const req = signed(path, body, { secret: o.webhookSecret, id: webhookId });
      let status = 0;
      let detail = "";
      try {
        const res = await fetch(`${o.ingestUrl}${path}`, {
          method: "POST",
          headers: req.headers,
          body,
          signal: AbortSignal.any([halt.signal, AbortSignal.timeout(10_000)]),
        });
        status = res.status;
        detail = status >= 400 ? (await res.text()).slice(0, 300) : "";
      } catch (error) {
        detail = (error as Error).message;
      }
      if ((status >= 200 && status < 300) || stopped) return;
      const transient = status === 0 || status === 429 || status >= 500;
      if (!transient || attempt >= MAX_ATTEMPTS) {
        stats.refused++;
        log?.warn({ path, status, detail }, "an outcome report was refused");
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** attempt)));
    }
  }

  async function report(request: Request & { requestId: string }, outcome: SendOutcome, i: number) {
    const id = `sim-${request.requestId}-${outcome.kind}-${i}`.slice(0, 200);
    const occurredAt = new Date().toISOString();
    if (outcome.kind === "unsubscribed" && o.unsubscribeSecret) {
      // The link in the mail, clicked: RFC 8058 one-click.
      const token = signUnsubscribeToken(
        { leadId: request.leadId, requestId: request.requestId, channel: request.channel },
        o.unsubscribeSecret,
      );
      const res = await fetch(`${o.ingestUrl}/unsubscribe/${token}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "List-Unsubscribe=One-Click",
        signal: AbortSignal.any([halt.signal, AbortSignal.timeout(10_000)]),
      }).catch((error: Error) => error);
      if (res instanceof Error || !res.ok) {
        if (stopped) return;
        stats.refused++;
        log?.warn(
          { status: res instanceof Error ? res.message : res.status },
          "unsubscribe refused",
        );
        return;
      }
    } else {
      const body: Record<string, unknown> = {
        type: outcome.kind,
        occurredAt,
        leadId: request.leadId,
        requestId: request.requestId,
        variantId: request.variantId,
        channel: request.channel,
      };
      if (outcome.kind === "replied")
        body.replyText = replyText(outcome.intent ?? "neutral", seededRng(hash(id)));
      if (outcome.kind === "bounced") body.bounceType = outcome.bounceType ?? "hard";
      await post("/webhooks/outcomes", JSON.stringify(body), id);
    }
    stats.reported[outcome.kind] = (stats.reported[outcome.kind] ?? 0) + 1;
  }

  function play(requestId: string, request: Request) {
    stats.sends++;
    let outcomes: SendOutcome[];
    try {
      const recipient = model(worldSegmentFor(o.world, request.segment), request.variantId);
      outcomes = drawSend(recipient, draw, detailRng(seed, leadNumber++));
    } catch {
      stats.unknown++;
      return;
    }
    outcomes.forEach((outcome, i) => {
      stats.pending++;
      const timer = setTimeout(() => {
        timers.delete(timer);
        stats.pending--;
        if (!stopped)
          void report({ ...request, requestId }, outcome, i).catch((error: Error) =>
            log?.warn({ err: error }, "an outcome report failed"),
          );
      }, hoursToMs(outcome.afterHours));
      timers.add(timer);
    });
  }

  const group = o.groupId ?? "recipient-simulator";
  const subscriptions: Subscription[] = [
    await o.bus.subscribe({
      groupId: `${group}-requests`,
      topic: "outreach.requested.v1",
      fromBeginning: true,
      decode: (v) =>
        v as {
          subject: string;
          data: { requestId: string; segment: string; variantId: string; channel: string };
        },
      handler: async (e) => {
        const request = {
          leadId: e.subject,
          segment: e.data.segment,
          variantId: e.data.variantId,
          channel: e.data.channel,
        };
        if (early.delete(e.data.requestId)) play(e.data.requestId, request);
        else requests.set(e.data.requestId, request);
      },
    }),
    await o.bus.subscribe({
      groupId: `${group}-sends`,
      topic: "outreach.dispatched.v1",
      fromBeginning: true,
      decode: (v) =>
        v as { data: { requestId: string; status: string; cadenceStep: number; at: string } },
      handler: async (e) => {
        // The first touch is what the recipient answers; follow-ups stop when they do.
        if (e.data.cadenceStep !== 0) return;
        const final =
          e.data.status === "sent" || e.data.status === "skipped" || e.data.status === "failed";
        if (e.data.status !== "sent") {
          // Never seen by the lead: forget the request (a long demo must not grow without end).
          if (final) requests.delete(e.data.requestId);
          return;
        }
        const request = requests.get(e.data.requestId);
        if (request) {
          requests.delete(e.data.requestId);
          play(e.data.requestId, request);
        } else early.set(e.data.requestId, { at: e.data.at });
      },
    }),
  ];

  return {
    stats: (): RecipientStats => ({ ...stats, reported: { ...stats.reported } }),
    async stop() {
      stopped = true;
      halt.abort();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      stats.pending = 0;
      for (const s of subscriptions) await s.close();
    },
  };
}
export type RecipientSimulator = Awaited<ReturnType<typeof startRecipientSimulator>>;

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
