/**
 * Runs groups of webhooks against ingest: `concurrency` groups at a time, each group's
 * webhooks one after the other (one lead's events arrive in order), until the source is
 * empty, the deadline passes or the run is interrupted. What was never attempted is
 * counted as not delivered, so the summary always accounts for every webhook.
 */
import { createDispatcher, deliver } from "./deliver.ts";
import { createTally, type Progress, type Summary, type Tally } from "./summary.ts";

/** A webhook ready to post: its body already serialised (retimed) once, so retries send the same bytes. */
export type Outgoing = { where: string; route: string; webhookId: string; body: string };

export type Source = {
  /** The next group, or undefined when there is none (or the run is stopping). */
  next(stop: AbortSignal): Promise<Outgoing[] | undefined>;
  /** What was never handed out: counted as not delivered when the run stops early. */
  rest(): { count: number; where: string } | undefined;
};

export type RunOptions = {
  ingestUrl: string;
  secret: string;
  /** Groups in flight at once. */
  concurrency: number;
  /** The whole run's budget, retries included. */
  deadlineMs: number;
  /** Longest one HTTP attempt may take (ingest waits up to 10 s for its broker). */
  attemptTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** What progress counts: webhooks, or groups (leads). */
  unit: Progress["unit"];
  /** The progress total in that unit. */
  total: number;
};

export const DEFAULT_DEADLINE_MS = 120_000;
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;

export async function runGroups(source: Source, o: RunOptions): Promise<Summary> {
  const tally: Tally = createTally();
  const deadline = Date.now() + o.deadlineMs;
  const dispatcher = createDispatcher(o.concurrency);
  // Stops the source and the attempts: at the deadline, or when the caller aborts.
  const stop = new AbortController();
  const onAbort = () => stop.abort("interrupted");
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop.abort("deadline");
  }, o.deadlineMs);
  let done = 0;
  let retrying: string | undefined;
  /** Retries so far, in flight included (the tally counts a webhook's once it is done). */
  let retries = 0;
  const progress = () =>
    o.onProgress?.({
      unit: o.unit,
      done,
      total: o.total,
      accepted: tally.summary.accepted,
      duplicates: tally.summary.duplicates,
      rejected: tally.summary.rejected,
      undelivered: tally.summary.undelivered,
      retries,
      ...(retrying ? { retrying } : {}),
      secondsLeft: Math.max(0, Math.round((deadline - Date.now()) / 1000)),
    });
  const ctx = {
    ingestUrl: o.ingestUrl,
    secret: o.secret,
    dispatcher,
    deadline,
    attemptTimeoutMs: o.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
    signal: stop.signal,
    onRetry: (reason: string) => {
      retrying = reason;
      retries++;
      progress();
    },
  };
  const stopReason = () =>
    o.signal?.aborted ? "interrupted" : "not attempted: the deadline passed first";

  async function worker() {
    for (;;) {
      if (stop.signal.aborted) return;
      const group = await source.next(stop.signal);
      if (!group) return;
      for (const [i, w] of group.entries()) {
        if (stop.signal.aborted) {
          for (const rest of group.slice(i)) tally.notDelivered(stopReason(), rest.where);
          tally.summary.total += group.length - i;
          if (o.unit === "webhooks") done += group.length - i;
          break;
        }
        tally.summary.total++;
        const result = await deliver(ctx, w.route, w.webhookId, w.body);
        if (result.kind !== "undelivered" || result.reason !== "interrupted") retrying = undefined;
        tally.add(result, w.where);
        if (o.unit === "webhooks") done++;
        progress();
      }
      if (o.unit === "leads") {
        done++;
        progress();
      }
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
    const rest = source.rest();
    if (rest && rest.count > 0) {
      tally.notDelivered(stopReason(), rest.where, rest.count);
      tally.summary.total += rest.count;
    }
    const summary = tally.finish();
    if (o.signal?.aborted) summary.interrupted = true;
    else if (timedOut && summary.undelivered > 0) summary.deadlineReached = true;
    return summary;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", onAbort);
    await dispatcher.close();
  }
}

/** A source over groups known up front (the files' leads), handed out in order. */
export function listSource(groups: Outgoing[][]): Source {
  let next = 0;
  return {
    async next(stop) {
      if (stop.aborted || next >= groups.length) return undefined;
      return groups[next++];
    },
    rest() {
      const left = groups.slice(next);
      const count = left.reduce((n, g) => n + g.length, 0);
      return count ? { count, where: left[0]![0]!.where } : undefined;
    },
  };
}
