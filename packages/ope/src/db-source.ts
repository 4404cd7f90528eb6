/**
 * Reads settled decisions from `experiments.decisions` (PostgreSQL or PGlite).
 * Raw SQL rather than the Drizzle table, so it works whether or not the schema
 * in @pw/db declares `context` yet; a database without the column yields no
 * usable rows (all counted as `no_context`) instead of an error.
 */
import type { Db } from "@pw/db";
import { admit, emptyLog, type LoadedLog } from "./decision-log.ts";

type Row = {
  request_id: string;
  segment: string;
  variant_id: string;
  policy: string;
  propensity: number | string;
  rewarded: boolean | null;
  context: unknown;
};

async function rows<T>(db: Db, query: string): Promise<T[]> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}

export async function readDecisionsFromDb(db: Db): Promise<LoadedLog & { hasContext: boolean }> {
  const found = await rows<{ n: number | string }>(
    db,
    `select count(*) as n from information_schema.columns
      where table_schema = 'experiments' and table_name = 'decisions' and column_name = 'context'`,
  );
  const hasContext = Number(found[0]?.n ?? 0) > 0;
  const data = await rows<Row>(
    db,
    `select request_id, segment, variant_id, policy, propensity, rewarded,
            ${hasContext ? "context" : "null as context"}
       from experiments.decisions
      where settled_at is not null
      order by decided_at, request_id`,
  );
  const log = emptyLog();
  for (const r of data) {
    // jsonb arrives parsed on both drivers; a json-typed text column would not.
    const context = typeof r.context === "string" ? JSON.parse(r.context) : r.context;
    admit(log, {
      requestId: r.request_id,
      segment: r.segment,
      variantId: r.variant_id,
      policy: r.policy,
      propensity: Number(r.propensity),
      reward: r.rewarded === null ? null : r.rewarded ? 1 : 0,
      context,
    });
  }
  return { ...log, hasContext };
}
