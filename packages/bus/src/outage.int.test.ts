// A PostgreSQL outage under a steady stream of events: the handlers' database is
// really stopped for 30 s (a private server, `pg_ctl stop -m fast`) and started again.
// Every subscription must hold its partitions and say it is stalled meanwhile, park
// nothing in the DLQ, and apply every event exactly once, in order, once it is back.
// Both adapters run side by side through the same outage (they share delivery.ts).
import {
  kafkaFixture,
  privatePostgres,
  requireServices,
  topicMessageCount,
  waitFor,
} from "@pw/testkit";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createKafkaBus } from "./kafka.ts";
import { createMemoryBus } from "./memory.ts";
import type { Bus, Subscription } from "./types.ts";

// A plain pg pool: this test stands for any handler that writes to PostgreSQL.
const { Pool } = pg;

const kafka = await kafkaFixture();
const server = await privatePostgres();
if (!server && requireServices())
  throw new Error("REQUIRE_SERVICES=1 but no PostgreSQL server binaries (scripts/services.sh up)");

const OUTAGE_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Stream = {
  name: string;
  bus: Bus;
  topic: string;
  table: string;
  sub?: Subscription;
  /** Health as sampled every 100 ms: [time, status, reason]. */
  samples: [number, string, string | undefined][];
  dlq: () => Promise<number>;
};

describe.runIf(kafka && server)("a PostgreSQL outage under a steady stream of events", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
    await kafka?.stop();
  });

  it("holds the partitions and reports stalled while PostgreSQL is stopped, parks nothing, applies every event once", async () => {
    await server!.start();
    cleanup.push(() => server!.destroy());
    const pool = new Pool({
      connectionString: server!.url,
      max: 4,
      connectionTimeoutMillis: 1_000,
    });
    // Idle clients die with the server; the pool drops them and the next query reconnects.
    pool.on("error", () => {});
    cleanup.push(() => pool.end());

    const kafkaBus = createKafkaBus({
      brokers: kafka!.brokers,
      clientId: "outage",
      sessionTimeout: 10_000,
    });
    const memoryBus = createMemoryBus({ defaultPartitions: 3 });
    cleanup.push(
      () => kafkaBus.close(),
      () => memoryBus.close(),
    );

    const memoryParked: string[] = [];
    const streams: Stream[] = [
      {
        name: "kafka",
        bus: kafkaBus,
        topic: kafka!.uniqueName("outage"),
        table: "applied_kafka",
        samples: [],
        dlq: () => topicMessageCount(kafka!.brokers, `${streams[0]!.topic}.dlq`),
      },
      {
        name: "memory",
        bus: memoryBus,
        topic: "outage",
        table: "applied_memory",
        samples: [],
        dlq: async () => memoryParked.length,
      },
    ];

    for (const s of streams) {
      await pool.query(
        `create table ${s.table} (id bigserial primary key, event_id text not null, lead text not null, seq int not null)`,
      );
      await s.bus.ensureTopics([{ name: s.topic, partitions: 3 }]);
      s.sub = await s.bus.subscribe({
        groupId: `outage-${s.name}`,
        topic: s.topic,
        decode: (v) => v as { id: string; lead: string; seq: number },
        handler: async (e) => {
          await pool.query(`insert into ${s.table} (event_id, lead, seq) values ($1, $2, $3)`, [
            e.id,
            e.lead,
            e.seq,
          ]);
        },
      });
    }
    const dlqSub = await memoryBus.subscribe({
      groupId: "outage-dlq",
      topic: "outage.dlq",
      format: "raw",
      decode: (v) => v,
      handler: async (_e, ctx) => void memoryParked.push(ctx.message.value),
    });
    cleanup.push(() => dlqSub.close());
    await Promise.all(streams.map((s) => s.sub!.ready));

    // The steady stream: 10 events a second, 12 leads, until shortly after the restart.
    let published = 0;
    let streaming = true;
    const producer = (async () => {
      while (streaming) {
        const seq = published;
        const lead = `lead-${seq % 12}`;
        const value = JSON.stringify({ id: `evt-${seq}`, lead, seq });
        await Promise.all(streams.map((s) => s.bus.publish(s.topic, [{ key: lead, value }])));
        published++;
        await sleep(100);
      }
    })();
    const sampler = setInterval(() => {
      for (const s of streams) {
        const h = s.sub!.health();
        s.samples.push([Date.now(), h.status, h.reason]);
      }
    }, 100);
    cleanup.push(async () => clearInterval(sampler));

    await sleep(3_000);
    const stoppedAt = Date.now();
    await server!.stop();
    await sleep(OUTAGE_MS);
    const restartAt = Date.now();
    await server!.start();
    const startedAt = Date.now();
    await sleep(2_000);
    streaming = false;
    await producer;

    const counts = async (table: string) => {
      const { rows } = await pool.query(
        `select count(*)::int as n, count(distinct event_id)::int as d from ${table}`,
      );
      return rows[0] as { n: number; d: number };
    };
    // Drained: every published event applied, or parked (which must not happen).
    const drained = Object.fromEntries(
      await Promise.all(
        streams.map(async (s) => {
          await waitFor(async () => (await counts(s.table)).n + (await s.dlq()) >= published, {
            timeoutMs: 30_000,
            message: `${s.name}: every event applied or parked`,
          });
          await waitFor(() => s.sub!.health().status === "ok", {
            timeoutMs: 10_000,
            message: `${s.name}: health ok again`,
          });
          return [s.name, Date.now() - startedAt] as const;
        }),
      ),
    );
    clearInterval(sampler);

    const report: Record<string, unknown> = { published, outageMs: restartAt - stoppedAt };
    for (const s of streams) {
      const during = s.samples.filter(([at]) => at > stoppedAt + 2_000 && at < restartAt);
      const stalled = during.filter(([, status]) => status === "stalled");
      report[s.name] = {
        ...(await counts(s.table)),
        dlq: await s.dlq(),
        stalledSamples: `${stalled.length}/${during.length}`,
        reason: stalled.at(-1)?.[2],
        caughtUpMsAfterRestart: drained[s.name],
      };
    }
    process.stdout.write(`outage figures: ${JSON.stringify(report)}\n`);

    for (const s of streams) {
      const { n, d } = await counts(s.table);
      expect(await s.dlq(), `${s.name}: messages parked in the DLQ`).toBe(0);
      expect(n, `${s.name}: rows applied`).toBe(published);
      expect(d, `${s.name}: distinct events applied`).toBe(published);
      // Order kept per lead: rows were inserted in publish order.
      const { rows } = await pool.query(`select lead, seq from ${s.table} order by id`);
      const last = new Map<string, number>();
      for (const r of rows) {
        expect(r.seq as number, `${s.name}: ${String(r.lead)} in order`).toBeGreaterThan(
          last.get(r.lead as string) ?? -1,
        );
        last.set(r.lead as string, r.seq as number);
      }
      // Stalled through the outage (after the first failed attempt), ok once caught up.
      const during = s.samples.filter(([at]) => at > stoppedAt + 2_000 && at < restartAt);
      expect(during.length).toBeGreaterThan(100);
      expect(
        during.every(([, status]) => status === "stalled"),
        `${s.name}: stalled`,
      ).toBe(true);
      expect(during.at(-1)?.[2]).toBeTruthy();
      expect(s.sub!.health()).toEqual({ status: "ok" });
    }
  });
});
