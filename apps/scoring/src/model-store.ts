/**
 * Versioned weights of the built-in model in `scoring.model_versions`: one row
 * per version, exactly one active. Online updates write a new version in the
 * caller's transaction (row-locked, so replicas serialise); rollback activates
 * a copy of an older version. Every version that becomes active is announced on
 * `model.updates.v1` in the same transaction (the gateway's model list). Lead events
 * read a cached copy refreshed often.
 */
import type { Db, Executor } from "@pw/db";
import * as schema from "@pw/db/scoring";
import { MODEL_SUBJECT, type ModelVersionActivatedV1, Topics } from "@pw/events";
import { desc, eq } from "drizzle-orm";
import { INITIAL_WEIGHTS, type Weights } from "./model/builtin.ts";
import { outbox } from "./outbox.ts";

const table = schema.modelVersions;
export type ModelVersion = { version: number; weights: Weights };

/** How a version came to be, for its announcement. */
export type VersionCause = {
  cause: ModelVersionActivatedV1["data"]["cause"];
  restoredFrom?: number;
  evaluation?: { label: 0 | 1; predicted: number };
  at: Date;
};

/** `lead.scored.v1`'s `model.version` for a built-in version. */
export const versionName = (version: number) => `builtin-v${version}`;

async function announce(
  tx: Executor,
  v: { version: number; previousVersion?: number; weights: Weights; reason: string } & VersionCause,
) {
  const event: ModelVersionActivatedV1 = {
    specversion: "1.0",
    // One announcement per version: a retried transaction cannot make a second.
    id: `model_builtin_v${v.version}`,
    source: "pw://scoring",
    time: v.at.toISOString(),
    subject: MODEL_SUBJECT,
    datacontenttype: "application/json",
    type: "model.version_activated.v1",
    data: {
      version: v.version,
      name: versionName(v.version),
      cause: v.cause,
      reason: v.reason.slice(0, 1000),
      ...(v.previousVersion !== undefined ? { previousVersion: v.previousVersion } : {}),
      ...(v.restoredFrom !== undefined ? { restoredFrom: v.restoredFrom } : {}),
      weights: v.weights,
      ...(v.evaluation ? { evaluation: v.evaluation } : {}),
      at: v.at.toISOString(),
    },
  };
  await outbox.enqueue(tx, Topics.modelUpdates, [event]);
}

export async function ensureInitialModel(db: Db, at = new Date()): Promise<void> {
  await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(table)
      .values({
        version: 1,
        weights: INITIAL_WEIGHTS,
        reason: "initial priors",
        active: true,
        createdAt: at,
      })
      .onConflictDoNothing()
      .returning({ version: table.version });
    if (inserted.length > 0)
      await announce(tx, {
        version: 1,
        weights: INITIAL_WEIGHTS,
        reason: "initial priors",
        cause: "initial",
        at,
      });
  });
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

/** The newest version's number (0 when there is none). */
export async function latestVersion(db: Executor): Promise<number> {
  const [latest] = await db
    .select({ v: table.version })
    .from(table)
    .orderBy(desc(table.version))
    .limit(1);
  return latest?.v ?? 0;
}

/** A stored version's weights, or undefined when it does not exist. */
export async function versionWeights(db: Executor, version: number): Promise<Weights | undefined> {
  const [row] = await db
    .select({ weights: table.weights })
    .from(table)
    .where(eq(table.version, version));
  return row?.weights;
}

/** Saves `weights` as the new active version and announces it; returns its number. */
export async function saveNewVersion(
  tx: Executor,
  previous: number,
  weights: Weights,
  reason: string,
  how: VersionCause = { cause: "online_update", at: new Date() },
): Promise<number> {
  const version = Math.max(await latestVersion(tx), previous) + 1;
  await tx.update(table).set({ active: false }).where(eq(table.active, true));
  await tx.insert(table).values({ version, weights, reason, active: true, createdAt: how.at });
  await announce(tx, { version, previousVersion: previous, weights, reason, ...how });
  return version;
}

/**
 * Re-activates the weights of `version` as a new version (history is never rewritten);
 * `reason` says why (it starts "rollback to v<version>"). Throws when it does not exist.
 */
export async function rollbackModel(
  tx: Executor,
  version: number,
  o: { reason?: string; at?: Date } = {},
): Promise<number> {
  const weights = await versionWeights(tx, version);
  if (!weights) throw new Error(`model version ${version} does not exist`);
  const current = await activeModel(tx, true);
  return saveNewVersion(tx, current.version, weights, o.reason ?? `rollback to v${version}`, {
    cause: "rollback",
    restoredFrom: version,
    at: o.at ?? new Date(),
  });
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
