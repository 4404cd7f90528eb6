// The reader against a real (embedded) PostgreSQL with the migrated schema.
import { DEFAULT_POLICY } from "@pw/bandit";
import { createDb, type DbHandle, migrate } from "@pw/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDecisionsFromDb } from "./db-source.ts";

const context = (status: "active" | "suppressed" = "active") => ({
  arms: [
    { id: "roi", successes: 3, failures: 97, exposures: 100, status: "active" },
    { id: "case_study", successes: 5, failures: 95, exposures: 100, status },
  ],
  policy: DEFAULT_POLICY,
});
const q = (x: string | null) => (x === null ? "null" : `'${x.replaceAll("'", "''")}'`);
const json = (x: unknown) => (x === null ? "null" : `${q(JSON.stringify(x))}::jsonb`);

let handle: DbHandle;
// A new PGlite costs an initdb: several seconds when other suites start theirs alongside.
beforeAll(async () => {
  handle = await createDb({ driver: "pglite" });
  await migrate(handle);
  // The engine's migration adds it too; until then the test adds it itself.
  await handle.db.execute(
    "alter table experiments.decisions add column if not exists context jsonb",
  );
  const row = (
    id: string,
    minute: number,
    o: {
      variant?: string;
      propensity?: number;
      settled?: boolean;
      rewarded?: boolean | null;
      context?: unknown;
    },
  ) =>
    `(${q(id)}, 'lead-${id}', 'smb', ${q(o.variant ?? "case_study")}, 'thompson', ${o.propensity ?? 0.6},
      '2025-01-01T10:${String(minute).padStart(2, "0")}:00Z',
      ${o.settled === false ? "null" : "'2025-01-15T10:00:00Z'"},
      ${o.rewarded === undefined ? "false" : o.rewarded === null ? "null" : o.rewarded},
      ${json(o.context === undefined ? context() : o.context)})`;
  await handle.db.execute(
    `insert into experiments.decisions
       (request_id, lead_id, segment, variant_id, policy, propensity, decided_at, settled_at, rewarded, context)
     values ${[
       row("r2", 2, { rewarded: false, variant: "roi", propensity: 0.25 }),
       row("r1", 1, { rewarded: true }),
       row("r3", 3, { context: null }),
       row("r4", 4, { settled: false, rewarded: null }),
       row("r5", 5, { context: context("suppressed") }),
       row("r6", 6, { context: { arms: "none" } }),
     ].join(",\n")}`,
  );
}, 40_000);
afterAll(() => handle.close());

describe("reading decisions from experiments.decisions", () => {
  it("reads settled decisions with their context in decision order, skipping and counting the rest", async () => {
    const log = await readDecisionsFromDb(handle.db);
    expect(log.hasContext).toBe(true);
    expect(log.records).toEqual([
      {
        requestId: "r1",
        segment: "smb",
        variantId: "case_study",
        policy: "thompson",
        propensity: expect.closeTo(0.6, 6), // a `real` column
        reward: 1,
        context: context(),
      },
      expect.objectContaining({ requestId: "r2", variantId: "roi", reward: 0, propensity: 0.25 }),
    ]);
    // r4 is not settled yet: not read at all.
    expect(log.skipped).toMatchObject({ no_context: 1, action_not_active: 1, invalid_context: 1 });
    expect(log.examples).toContain("r3: no context recorded");
  });

  it("works on a database whose decisions have no context column yet", async () => {
    await handle.db.execute("alter table experiments.decisions drop column context");
    try {
      const log = await readDecisionsFromDb(handle.db);
      expect(log.hasContext).toBe(false);
      expect(log.records).toEqual([]);
      expect(log.skipped.no_context).toBe(5);
    } finally {
      await handle.db.execute("alter table experiments.decisions add column context jsonb");
    }
  });
});
