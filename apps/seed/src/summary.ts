/**
 * What a run did, counted as it goes: accepted, duplicates, rejections grouped by status +
 * error code + message (with where the first few came from), what was retried, and what
 * could not be delivered before the deadline — so nothing is lost without being said.
 */
import type { Delivery } from "./deliver.ts";

export type Rejection = {
  status: number;
  code: string;
  message: string;
  count: number;
  /** Where the first few came from (`signals.ndjson:12`, or the lead and route). */
  examples: string[];
};

export type Undelivered = { reason: string; count: number; examples: string[] };

export type Summary = {
  /** Webhooks to send (known up front for files; the ones started for --simulate). */
  total: number;
  /** 202: on the bus now. */
  accepted: number;
  /** 200 `duplicate: true`: ingest had it already (an earlier run), nothing published. */
  duplicates: number;
  /** Refused with a final answer (4xx, 500): `rejections` says why. */
  rejected: number;
  rejections: Rejection[];
  /** Webhooks that needed more than one attempt, and the extra attempts in all. */
  retried: number;
  retries: number;
  /** Not delivered: the deadline passed or the run was interrupted first. */
  undelivered: number;
  undeliveredReasons: Undelivered[];
  deadlineReached: boolean;
  interrupted: boolean;
  elapsedMs: number;
};

/** What a progress display shows. */
export type Progress = {
  /** What `done`/`total` count: webhooks (files) or leads (--simulate). */
  unit: "webhooks" | "leads";
  done: number;
  total: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  undelivered: number;
  retries: number;
  /** The last transient failure, while retries are going on ("503 broker_unavailable"). */
  retrying?: string;
  /** Seconds until the run's deadline (retries stop there). */
  secondsLeft: number;
};

const MAX_EXAMPLES = 3;

export function createTally() {
  const started = performance.now();
  const s: Summary = {
    total: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    rejections: [],
    retried: 0,
    retries: 0,
    undelivered: 0,
    undeliveredReasons: [],
    deadlineReached: false,
    interrupted: false,
    elapsedMs: 0,
  };
  const rejections = new Map<string, Rejection>();
  const reasons = new Map<string, Undelivered>();
  return {
    summary: s,
    add(result: Delivery, where: string) {
      if (result.retries > 0) {
        s.retried++;
        s.retries += result.retries;
      }
      if (result.kind === "accepted") s.accepted++;
      else if (result.kind === "duplicate") s.duplicates++;
      else if (result.kind === "rejected") {
        s.rejected++;
        const key = `${result.status} ${result.code} ${result.message}`;
        let r = rejections.get(key);
        if (!r) {
          r = {
            status: result.status,
            code: result.code,
            message: result.message,
            count: 0,
            examples: [],
          };
          rejections.set(key, r);
        }
        r.count++;
        if (r.examples.length < MAX_EXAMPLES) r.examples.push(where);
      } else this.notDelivered(result.reason, where);
    },
    notDelivered(reason: string, where: string, count = 1) {
      s.undelivered += count;
      if (reason === "interrupted") s.interrupted = true;
      if (reason.startsWith("deadline")) s.deadlineReached = true;
      let r = reasons.get(reason);
      if (!r) {
        r = { reason, count: 0, examples: [] };
        reasons.set(reason, r);
      }
      r.count += count;
      if (r.examples.length < MAX_EXAMPLES) r.examples.push(where);
    },
    finish(): Summary {
      s.rejections = [...rejections.values()].sort((a, b) => b.count - a.count);
      s.undeliveredReasons = [...reasons.values()].sort((a, b) => b.count - a.count);
      s.elapsedMs = Math.round(performance.now() - started);
      return s;
    },
  };
}
export type Tally = ReturnType<typeof createTally>;

/** True when everything sent was accepted or already there. */
export const succeeded = (s: Summary) => s.rejected === 0 && s.undelivered === 0;

/** The summary as a few lines a person reads (no secret, no body content). */
export function formatSummary(s: Summary): string[] {
  const seconds = (s.elapsedMs / 1000).toFixed(1);
  const lines = [
    `${s.total} webhooks in ${seconds} s: ${s.accepted} accepted, ${s.duplicates} duplicates, ${s.rejected} rejected, ${s.undelivered} not delivered; ${s.retried} retried (${s.retries} retries)`,
  ];
  for (const r of s.rejections)
    lines.push(
      `  rejected ${r.count}× ${r.status} ${r.code}: ${r.message} (e.g. ${r.examples.join(", ")})`,
    );
  for (const u of s.undeliveredReasons)
    lines.push(`  not delivered ${u.count}×: ${u.reason} (e.g. ${u.examples.join(", ")})`);
  if (s.deadlineReached)
    lines.push("  the deadline was reached: raise --deadline or check that ingest is up");
  if (s.interrupted)
    lines.push(
      "  interrupted: run it again to send the rest (duplicates are acknowledged, not doubled)",
    );
  return lines;
}
