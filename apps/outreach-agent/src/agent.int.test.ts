// The agent on a real PostgreSQL: the whole agent suite, and two instances on one database
// (replicas on Truefoundry) racing for the same keys — each key is sent exactly once.
import { randomUUID } from "node:crypto";
import { createDb, migrate } from "@pw/db";
import { postgresFixture } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSuite } from "../test/agent-suite.ts";
import { emailRequest, SECRET, startAgent, type TestAgent } from "../test/harness.ts";
import { startSmtpServer, type TestSmtpServer } from "../test/servers.ts";

const pg = await postgresFixture();

async function pgDatabase() {
  const database = await pg!.createDatabase("pw_agent");
  const db = await createDb({ driver: "pg", url: database.url });
  await migrate(db);
  return {
    db,
    url: database.url,
    close: async () => {
      await db.close();
      await database.drop();
    },
  };
}

describe.runIf(pg)("outreach agent on PostgreSQL", () => {
  agentSuite(`PostgreSQL (${pg?.source})`, pgDatabase);

  describe("two replicas on one database", () => {
    let database: Awaited<ReturnType<typeof pgDatabase>>;
    let smtp: TestSmtpServer;
    const replicas: TestAgent[] = [];

    beforeAll(async () => {
      database = await pgDatabase();
      smtp = await startSmtpServer();
      for (let i = 0; i < 2; i++) {
        // Each replica its own connection pool, as separate processes would have.
        const db = await createDb({ driver: "pg", url: database.url });
        const agent = await startAgent(db, {
          AGENT_JWT_SECRET: SECRET,
          SMTP_URL: smtp.url,
          SMTP_FROM: "Bob <bob@acme.test>",
        });
        replicas.push({
          ...agent,
          stop: async () => {
            await agent.stop();
            await db.close();
          },
        });
      }
    });
    afterAll(async () => {
      for (const r of replicas) await r.stop();
      await smtp?.close();
      await database?.close();
    });

    it("20 keys, each requested 6 times across both replicas at once: 20 mails", async () => {
      const keys = Array.from({ length: 20 }, () => `k-${randomUUID()}`);
      const requests = keys.map((key, i) => ({
        key,
        request: emailRequest({ to: `r${i}@example.org` }),
      }));
      const answers = await Promise.all(
        requests.flatMap(({ key, request }) =>
          Array.from({ length: 6 }, (_, j) => replicas[j % 2]!.dispatch(request, key)),
        ),
      );
      expect(
        answers.filter((a) => a.statusCode !== 202 && a.statusCode !== 409).map((a) => a.body),
      ).toEqual([]);
      // Every call has returned, so every send has been handed to the SMTP server; settle
      // the keys that answered 409 by asking again.
      for (const { key, request } of requests) {
        const final = await replicas[0]!.dispatch(request, key);
        expect(final.statusCode).toBe(202);
        expect(JSON.parse(final.body)).toMatchObject({ status: "sent", replayed: true });
      }
      for (let i = 0; i < 20; i++)
        expect(smtp.mails.filter((m) => m.envelope.to.includes(`r${i}@example.org`))).toHaveLength(
          1,
        );
      expect(smtp.mails).toHaveLength(20);
    });
  });
});
