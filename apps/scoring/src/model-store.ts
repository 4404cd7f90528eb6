/**
 * Versioned weights of the built-in model in `scoring.model_versions`: one row per
 * version, exactly one active. The initial priors, each refit (promoted, or kept as a
 * rejected candidate with its figures) and each rollback are versions; history is never
 * rewritten. Every version that becomes active is announced on `model.updates.v1` in the
 * transaction that saves it (the gateway's model list), a rejected candidate too. Scores
 * read a cached copy refreshed often: no score waits on, or locks, the model row.
 */
import type { Db, Executor } from "@pw/db";
import * as schema from "@pw/db/scoring";
import {
  MODEL_SUBJECT,
  type ModelCandidateRejectedV1,
  type ModelVersionActivatedV1,
  type TierCutoffs,
  Topics,
} from "@pw/events";
import { desc, eq, sql } from "drizzle-orm";
import { INITIAL_WEIGHTS, PRIOR_TIERS, type Weights } from "./model/builtin.ts";
import { outbox } from "./outbox.ts";

const table = schema.modelVersions;
export type ModelVersion = { version: number; weights: Weights; tiers: TierCutoffs };

/** How a version came to be, for its row and its announcement. */
export type VersionCause = {
  cause: "initial" | "refit" | "rollback";
  restoredFrom?: number;
  holdout?: schema.ModelHoldout;
  labelledUpTo?: Date;
  at: Date;
};

/** `lead.scored.v1`'s `model.version` for a built-in version. */
export const versionName = (version: number) => `builtin-v${version}`;

async function announce(
  tx: Executor,
  v: {
    version: number;
    previousVersion?: number;
    weights: Weights;
    tiers: TierCutoffs;
    reason: string;
  } & VersionCause,
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
      ...(v.holdout ? { holdout: v.holdout } : {}),
      tiers: v.tiers,
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
        cause: "initial",
        tiers: PRIOR_TIERS,
        createdAt: at,
      })
      .onConflictDoNothing()
      .returning({ version: table.version });
    if (inserted.length > 0)
      await announce(tx, {
        version: 1,
        weights: INITIAL_WEIGHTS,
        tiers: PRIOR_TIERS,
        reason: "initial priors",
        cause: "initial",
        at,
      });
  });
}

const versionOf = (row: typeof table.$inferSelect): ModelVersion => ({
  version: row.version,
  weights: row.weights,
  tiers: row.tiers ?? PRIOR_TIERS,
});

export async function activeModel(db: Executor, forUpdate = false): Promise<ModelVersion> {
  const q = db
    .select()
    .from(table)
    .where(eq(table.active, true))
    .orderBy(desc(table.version))
    .limit(1);
  const [row] = forUpdate ? await q.for("update") : await q;
  if (!row) return { version: 1, weights: INITIAL_WEIGHTS, tiers: PRIOR_TIERS };
  return versionOf(row);
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

/** The newest label any refit (promoted or not) has seen: the next refit counts after it. */
export async function lastRefitCutoff(db: Executor): Promise<Date | undefined> {
  const [row] = await db.select({ at: sql<string | null>`max(${table.labelledUpTo})` }).from(table);
  return row?.at ? new Date(row.at) : undefined;
}

/** A stored version, or undefined when it does not exist. */
export async function storedVersion(
  db: Executor,
  version: number,
): Promise<ModelVersion | undefined> {
  const [row] = await db.select().from(table).where(eq(table.version, version));
  return row ? versionOf(row) : undefined;
}

/** Saves `model` as the new active version and announces it; returns its number. */
export async function saveNewVersion(
  tx: Executor,
  previous: number,
  model: Omit<ModelVersion, "version">,
  reason: string,
  how: VersionCause,
): Promise<number> {
  const version = Math.max(await latestVersion(tx), previous) + 1;
  await tx.update(table).set({ active: false }).where(eq(table.active, true));
  await tx.insert(table).values({
    version,
    weights: model.weights,
    tiers: model.tiers,
    reason,
    active: true,
    cause: how.cause,
    holdout: how.holdout ?? null,
    labelledUpTo: how.labelledUpTo ?? null,
    createdAt: how.at,
  });
  await announce(tx, { version, previousVersion: previous, ...model, reason, ...how });
  return version;
}

/**
 * Keeps a refit that lost to the active version: a version with its figures (never
 * active, an operator may still roll back to it), announced as rejected.
 */
export async function saveRejected(
  tx: Executor,
  active: number,
  model: Omit<ModelVersion, "version">,
  holdout: schema.ModelHoldout,
  o: { labelledUpTo: Date; at: Date },
): Promise<number> {
  const version = (await latestVersion(tx)) + 1;
  await tx.insert(table).values({
    version,
    weights: model.weights,
    tiers: model.tiers,
    reason: holdout.verdict.slice(0, 1000),
    active: false,
    cause: "rejected",
    holdout,
    labelledUpTo: o.labelledUpTo,
    createdAt: o.at,
  });
  const event: ModelCandidateRejectedV1 = {
    specversion: "1.0",
    id: `model_builtin_v${version}`,
    source: "pw://scoring",
    time: o.at.toISOString(),
    subject: MODEL_SUBJECT,
    datacontenttype: "application/json",
    type: "model.candidate_rejected.v1",
    data: {
      version,
      name: versionName(version),
      activeVersion: active,
      weights: model.weights,
      holdout,
      at: o.at.toISOString(),
    },
  };
  await outbox.enqueue(tx, Topics.modelUpdates, [event]);
  return version;
}

/**
 * Re-activates the weights and tiers of `version` as a new version (history is never
 * rewritten); `reason` says why (it starts "rollback to v<version>"). Throws when it
 * does not exist.
 */
export async function rollbackModel(
  tx: Executor,
  version: number,
  o: { reason?: string; at?: Date } = {},
): Promise<number> {
  const stored = await storedVersion(tx, version);
  if (!stored) throw new Error(`model version ${version} does not exist`);
  const current = await activeModel(tx, true);
  return saveNewVersion(
    tx,
    current.version,
    { weights: stored.weights, tiers: stored.tiers },
    o.reason ?? `rollback to v${version}`,
    { cause: "rollback", restoredFrom: version, at: o.at ?? new Date() },
  );
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
