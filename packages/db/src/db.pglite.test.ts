import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb } from "./client.ts";
import { dbSuite } from "./db-suite.ts";
import { migrate } from "./migrate.ts";
import { leads } from "./schema/scoring.ts";

dbSuite("PGlite (embedded)", () => ({ open: () => createDb({ driver: "pglite" }) }));

describe("PGlite persistence", () => {
  it("keeps data in its directory across a close and reopen (a demo restart)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pw-pglite-"));
    try {
      const first = await createDb({ driver: "pglite", dir });
      await migrate(first);
      await first.db.insert(leads).values({ leadId: "lead-persist", score: 42, tier: "hot" });
      await first.close();

      const second = await createDb({ driver: "pglite", dir });
      await migrate(second);
      const [row] = await second.db.select().from(leads).where(eq(leads.leadId, "lead-persist"));
      expect(row).toMatchObject({ score: 42, tier: "hot" });
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
