/**
 * Replays sample-event files (lines.ts) through ingest's webhooks: every line checked first,
 * one lead's lines in order, leads in parallel, each event's time moved to the replay, every
 * webhook signed with its stable id — so a second replay is acknowledged as duplicates.
 */
import { groupByLead, readSeedFiles, retimed } from "./lines.ts";
import { DEFAULT_DEADLINE_MS, listSource, runGroups } from "./run.ts";
import type { Progress, Summary } from "./summary.ts";

export type SeedFilesOptions = {
  /** Ingest's base URL, e.g. http://127.0.0.1:4100. */
  ingestUrl: string;
  /** The Standard Webhooks secret ingest verifies with (`whsec_…`). */
  secret: string;
  /** NDJSON files, or directories whose `.ndjson` files are read in name order. */
  files: string | string[];
  /** Only the first N leads of the files (in order of first appearance); default all. */
  leads?: number;
  /** Leads posted at once (default 16). */
  concurrency?: number;
  /** Budget for the whole replay, retries included (default 120 s). */
  deadlineMs?: number;
  attemptTimeoutMs?: number;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** The replay's "now" in epoch ms (default: when it starts); offsets count back from it. */
  now?: number;
};

export type SeedFilesSummary = Summary & {
  /** The files read, in the order sent. */
  files: string[];
  /** Distinct leads in them. */
  leads: number;
};

export const DEFAULT_CONCURRENCY = 16;

export async function seedFiles(o: SeedFilesOptions): Promise<SeedFilesSummary> {
  const { files, jobs } = await readSeedFiles(Array.isArray(o.files) ? o.files : [o.files]);
  if (o.leads !== undefined && !(Number.isSafeInteger(o.leads) && o.leads >= 1))
    throw new RangeError(`leads: ${o.leads} is not a whole number ≥ 1`);
  const now = o.now ?? Date.now();
  const chosen = groupByLead(jobs).slice(0, o.leads);
  const groups = chosen.map((g) =>
    g.map(({ where, line }) => ({
      where,
      route: line.route,
      webhookId: line.webhookId,
      body: JSON.stringify(retimed(line, now)),
    })),
  );
  const summary = await runGroups(listSource(groups), {
    ingestUrl: o.ingestUrl,
    secret: o.secret,
    concurrency: o.concurrency ?? DEFAULT_CONCURRENCY,
    deadlineMs: o.deadlineMs ?? DEFAULT_DEADLINE_MS,
    ...(o.attemptTimeoutMs ? { attemptTimeoutMs: o.attemptTimeoutMs } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    unit: "webhooks",
    total: groups.reduce((n, g) => n + g.length, 0),
  });
  const leads = new Set(
    chosen.flatMap((g) => g.flatMap((j) => (j.line.lead ? [j.line.lead] : []))),
  );
  return { ...summary, files, leads: leads.size };
}
