/**
 * The sample-event files: NDJSON, one webhook per line (format in apps/seed/README.md).
 * Reads and checks every line before anything is sent (a bad file is refused whole, each
 * problem named by file:line and field), groups the lines by lead so one lead's events
 * go out in order, and moves each event's times to the moment of the replay.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { InputError } from "@pw/simulator/command-line";
import { z } from "zod";

/** One webhook: where it goes, its stable id, whose it is, when (relative to the replay), what. */
export const SeedLine = z
  .object({
    /** The Standard Webhooks `webhook-id`: the same id twice is acknowledged once. */
    webhookId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces (it is sent as a header)"),
    /** Path and query on the ingest URL. */
    route: z
      .string()
      .regex(
        /^\/webhooks\/(lightfield|signals|outcomes)(\?[^\s#]*)?$/,
        "must be /webhooks/lightfield, /webhooks/signals or /webhooks/outcomes (a query allowed)",
      ),
    /** The lead the event is about: a lead's lines are posted one after the other, in file order. */
    lead: z.string().min(1).max(200).optional(),
    /**
     * When it happened, in milliseconds before the replay starts (≤ 0). With it, the body's
     * `occurredAt` becomes replay time + offsetMs and `createdAt`/`updatedAt` move with it.
     */
    offsetMs: z
      .number()
      .int()
      .max(0, "must be ≤ 0: events happen before the replay (ingest refuses future times)")
      .optional(),
    body: z.record(z.string(), z.unknown()),
  })
  .strict();
export type SeedLine = z.infer<typeof SeedLine>;

/** A line and where it came from (`lightfield.ndjson:12`), for the summary. */
export type Job = { where: string; line: SeedLine };

/** At most this many problems are listed when a file is refused. */
const MAX_PROBLEMS = 10;

/** The `.ndjson` files a path names: the file itself, or a directory's, sorted by name. */
export async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const s = await stat(path).catch((e: NodeJS.ErrnoException) => {
      throw new InputError(
        `--files: ${path}: ${e.code === "ENOENT" ? "no such file or directory" : `cannot read (${e.code})`}`,
      );
    });
    if (s.isDirectory()) {
      const names = (await readdir(path)).filter((n) => n.endsWith(".ndjson")).sort();
      if (names.length === 0) throw new InputError(`--files: ${path}: no .ndjson files in it`);
      files.push(...names.map((n) => join(path, n)));
    } else files.push(path);
  }
  return files;
}

/** Parses one file's text; problems are pushed as `file:line: field: message`. */
export function parseLines(text: string, file: string, problems: string[]): Job[] {
  const jobs: Job[] = [];
  const name = basename(file);
  const rows = text.split("\n");
  for (const [i, raw] of rows.entries()) {
    const row = raw.trim();
    if (row === "") continue;
    const where = `${name}:${i + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(row);
    } catch (e) {
      problems.push(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
      continue;
    }
    const parsed = SeedLine.safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues.slice(0, 3))
        problems.push(
          `${file}:${i + 1}: ${issue.path.map(String).join(".") || "(line)"}: ${issue.message}`,
        );
      continue;
    }
    jobs.push({ where, line: parsed.data });
  }
  return jobs;
}

/** Every line of the files, checked; an InputError listing the problems when any line is bad. */
export async function readSeedFiles(paths: readonly string[]): Promise<{
  files: string[];
  jobs: Job[];
}> {
  const files = await expandPaths(paths);
  const problems: string[] = [];
  const jobs: Job[] = [];
  for (const file of files) {
    const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
      throw new InputError(`--files: ${file}: cannot read (${e.code})`);
    });
    jobs.push(...parseLines(text, file, problems));
  }
  const seen = new Map<string, string>();
  for (const { where, line } of jobs) {
    // Same id on the same route: ingest would take the second for a redelivery of the first.
    const key = `${routeName(line.route)} ${line.webhookId}`;
    const first = seen.get(key);
    if (first) problems.push(`${where}: webhookId: "${line.webhookId}" is also used at ${first}`);
    else seen.set(key, where);
  }
  if (jobs.length === 0 && problems.length === 0)
    problems.push(`--files: ${paths.join(", ")}: no webhooks in ${files.join(", ")}`);
  if (problems.length > 0) {
    const more =
      problems.length > MAX_PROBLEMS ? [`… and ${problems.length - MAX_PROBLEMS} more`] : [];
    throw new InputError([...problems.slice(0, MAX_PROBLEMS), ...more].join("\n"));
  }
  return { files, jobs };
}

/** `/webhooks/lightfield?type=x` → `lightfield`: ingest dedupes per route, whatever the query. */
const routeName = (route: string) => route.split("?")[0]!.slice("/webhooks/".length);

/**
 * The jobs grouped by lead, in order of each lead's first line; a group keeps its lines in
 * input order (files in the order given, then line order). A line without a lead is a
 * group of its own.
 */
export function groupByLead(jobs: readonly Job[]): Job[][] {
  const groups = new Map<string, Job[]>();
  const out: Job[][] = [];
  for (const job of jobs) {
    const lead = job.line.lead;
    if (lead === undefined) {
      out.push([job]);
      continue;
    }
    let group = groups.get(lead);
    if (!group) {
      group = [];
      groups.set(lead, group);
      out.push(group);
    }
    group.push(job);
  }
  return out;
}

const TIME_KEYS = ["createdAt", "updatedAt"] as const;

function shifted(value: unknown, deltaMs: number): unknown {
  if (typeof value !== "string") return value;
  const t = Date.parse(value);
  return Number.isNaN(t) ? value : new Date(t + deltaMs).toISOString();
}

/**
 * The body as it is posted at `nowMs`: without `offsetMs` as written; with it, `occurredAt`
 * = now + offsetMs, and the record's `createdAt`/`updatedAt` (top level, or under
 * `object`/`record`) moved by as much, so a record keeps its age relative to its event.
 */
export function retimed(line: SeedLine, nowMs: number): Record<string, unknown> {
  if (line.offsetMs === undefined) return line.body;
  const at = nowMs + line.offsetMs;
  const written = typeof line.body.occurredAt === "string" ? Date.parse(line.body.occurredAt) : NaN;
  const delta = Number.isNaN(written) ? 0 : at - written;
  const body: Record<string, unknown> = { ...line.body, occurredAt: new Date(at).toISOString() };
  for (const k of TIME_KEYS) if (k in body) body[k] = shifted(body[k], delta);
  for (const inner of ["object", "record"]) {
    const o = body[inner];
    if (o && typeof o === "object" && !Array.isArray(o)) {
      const copy: Record<string, unknown> = { ...(o as Record<string, unknown>) };
      for (const k of TIME_KEYS) if (k in copy) copy[k] = shifted(copy[k], delta);
      body[inner] = copy;
    }
  }
  return body;
}
