/**
 * Versioned weights of the built-in model in `scoring.model_versions`: one row
 * per version, exactly one active. Online updates write a new version in the
 * caller's transaction (row-locked, so replicas serialise); rollback activates
 * a copy of an older version. Lead events read a cached copy refreshed often.
 */
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/scoring";
import { desc, eq } from "drizzle-orm";
import { INITIAL_WEIGHTS, type Weights } from "./model/builtin.ts";

const table = schema.modelVersions;
export type ModelVersion = { version: number; weights: Weights };

export async function ensureInitialModel(db: Executor): Promise<void> {
  await db
    .insert(table)
    .values({ version: 1, weights: INITIAL_WEIGHTS, reason: "initial priors", active: true })
    .onConflictDoNothing();
}

export async function activeModel(db: Executor, forUpdate = false): Promise<ModelVersion> {
  const q = db
    .select()
    .from(table)
    .where(eq(table.active, true))
    .orderBy(desc(table.version))
    .limit(1);
  const [row] = forUpdate ? await q.for("update") : await q;
  if (!row) return { version: 1, weights: INITIAL_WEIGHTS };
  return { version: row.version, weights: row.weights };
}

export async function saveNewVersion(
  tx: Executor,
  previous: number,
  weights: Weights,
  reason: string,
): Promise<number> {
  const [latest] = await tx
    .select({ v: table.version })
    .from(table)
    .orderBy(desc(table.version))
    .limit(1);
  const version = (latest?.v ?? previous) + 1;
  await tx.update(table).set({ active: false }).where(eq(table.active, true));
  await tx.insert(table).values({ version, weights, reason, active: true });
  return version;
}

/** Re-activates the weights of `version` as a new version (history is never rewritten). */
export async function rollbackModel(db: Executor, version: number): Promise<number> {
  const [row] = await db.select().from(table).where(eq(table.version, version));
  if (!row) throw new Error(`model version ${version} does not exist`);
  const current = await activeModel(db);
  return saveNewVersion(db, current.version, row.weights, `rollback to v${version}`);
}

export function modelCache(ttlMs = 2_000) {
  let cached: ModelVersion | undefined;
  let at = 0;
  return {
    /** `db` is the caller's executor: inside a transaction pass the transaction (PGlite has one connection). */
    async get(db: Executor): Promise<ModelVersion> {
      if (!cached || Date.now() - at > ttlMs) {
        cached = await activeModel(db);
        at = Date.now();
      }
      return cached;
    },
    set(v: ModelVersion) {
      cached = v;
      at = Date.now();
    },
  };
}
