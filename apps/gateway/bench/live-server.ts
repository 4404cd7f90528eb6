// The server side of `pnpm bench:live`, in a process of its own (so its memory is its
// own and the SSE clients do not share its event loop). `BENCH_SERVER=gateway`: the
// gateway through `startGateway` with the production defaults; `BENCH_SERVER=baseline`: a
// bare node:http SSE fan-out of the same bus messages (no projection, no database) — the
// floor any live stream on this bus pays. Both on PGlite + the in-process bus, or on
// PostgreSQL / Kafka when DATABASE_URL / KAFKA_BROKERS are set.
//
// Driven over IPC by live.bench.ts: `publish` sends lead events at a steady rate (each
// carries its publish time in `objectId`), `rss` reports process.memoryUsage() after a GC, `stop` ends.
import { createServer, type ServerResponse } from "node:http";
import { type Bus, createBus, createMemoryBus, publishEvents, subscribeTopic } from "@pw/bus";
import { createDb, type DbHandle, migrate } from "@pw/db";
import { ALL_TOPICS, type CrmRecordChangedV1, commandKeyPair, envelope, Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import { openDatabase } from "@pw/service";
import { postgresFixture, type TestDatabase } from "@pw/testkit";
import { gatewayConfig } from "../src/config.ts";
import { startGateway } from "../src/start.ts";

type Command =
  | { cmd: "publish"; events: number; ratePerSec: number; from: number }
  | { cmd: "rss" }
  | { cmd: "stop" };

const mode = process.env.BENCH_SERVER === "baseline" ? "baseline" : "gateway";
const stamp = `${mode}-${Date.now().toString(36)}`;
const send = (m: unknown) => process.send?.(m);
const now = () => performance.timeOrigin + performance.now();

/** A CRM change for a fresh lead, stamped with when it is published. */
function leadEvent(seq: number): CrmRecordChangedV1 {
  const at = new Date().toISOString();
  return envelope({
    type: "lead.crm_record_changed.v1",
    source: "pw://bench",
    subject: `bench-${stamp}-${seq}`,
    data: {
      source: "lightfield_webhook",
      objectType: "contacts",
      objectId: `bench:${seq}:${now().toFixed(3)}`,
      operation: "created",
      occurredAt: at,
      record: {
        id: `rec-${seq}`,
        fields: { $email: { value: [`lead${seq}@bench.example`], valueType: "EMAIL" } },
        relationships: {},
      },
      profile: {
        firstName: "Bench",
        lastName: `Lead ${seq}`,
        email: `lead${seq}@bench.example`,
        company: "Bench Co",
        title: "VP Engineering",
      },
    },
  }) as CrmRecordChangedV1;
}

async function open(): Promise<{
  db: DbHandle;
  bus: Bus;
  env: Record<string, string>;
  close(): Promise<void>;
}> {
  const env: Record<string, string> = {};
  let database: TestDatabase | undefined;
  let db: DbHandle;
  if (process.env.DATABASE_URL) {
    const pg = await postgresFixture();
    database = await pg!.createDatabase(`pw_bench_live_${mode}`);
    env.DATABASE_URL = database.url;
    db = await createDb({ driver: "pg", url: database.url });
    await migrate(db); // what `pnpm db:migrate` does before a deployment starts
  } else {
    db = await openDatabase({ driver: "pglite" });
  }
  let bus: Bus;
  if (process.env.KAFKA_BROKERS) {
    const prefix = `bench-live-${stamp}.`;
    env.BUS_DRIVER = "kafka";
    env.KAFKA_TOPIC_PREFIX = prefix;
    bus = createBus({
      driver: "kafka",
      brokers: process.env.KAFKA_BROKERS.split(","),
      clientId: `bench-live-${mode}`,
      partitions: 6,
      replicationFactor: 1,
      topicPrefix: prefix,
    });
  } else {
    bus = createMemoryBus();
  }
  await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name, partitions: 6 })));
  return {
    db,
    bus,
    env,
    async close() {
      await bus.close();
      await db.close();
      await database?.drop();
    },
  };
}

async function gateway(deps: Awaited<ReturnType<typeof open>>) {
  const keys = commandKeyPair("bench");
  const config = gatewayConfig({
    ...process.env,
    ...deps.env,
    // Production defaults: only where it runs and who may sign in are set here.
    NODE_ENV: "production",
    PORT: "0",
    LOG_LEVEL: "warn",
    GATEWAY_OPERATORS: process.env.BENCH_OPERATORS ?? "",
    OPERATOR_COMMAND_PRIVATE_KEY: keys.privateKey
      .export({ format: "pem", type: "pkcs8" })
      .toString(),
    OPERATOR_COMMAND_KEY_ID: keys.keyId,
  });
  const logger = createLogger({ service: "gateway", level: "warn" });
  const running = await startGateway(config, { db: deps.db, bus: deps.bus, logger });
  return { url: running.url!, stop: () => running.stop() };
}

/** The floor: bus message → one SSE frame per client, written as the gateway writes it. */
async function baseline(deps: Awaited<ReturnType<typeof open>>) {
  const clients = new Set<ServerResponse>();
  let seq = 0;
  const sub = await subscribeTopic(deps.bus, {
    groupId: `bench-baseline-${stamp}`,
    topic: Topics.leadEvents,
    fromBeginning: false,
    handler: async (event) => {
      const row = {
        seq: ++seq,
        topic: Topics.leadEvents,
        type: event.type,
        subject: event.subject,
        at: event.time,
        data: event.data,
      };
      const frame = `id: ${row.seq}\nevent: ${row.topic}\ndata: ${JSON.stringify(row)}\n\n`;
      for (const res of clients) res.write(frame);
    },
  });
  const server = createServer((req, res) => {
    if (!req.url?.startsWith("/api/stream")) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
    });
    res.write("retry: 3000\n\n");
    clients.add(res);
    res.on("close", () => clients.delete(res));
  });
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      for (const res of clients) res.end();
      await sub.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function publish(bus: Bus, c: Extract<Command, { cmd: "publish" }>) {
  const started = performance.now();
  for (let i = 0; i < c.events; i++) {
    const due = started + (i / c.ratePerSec) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await publishEvents(bus, Topics.leadEvents, [leadEvent(c.from + i)]);
  }
}

const deps = await open();
const server = mode === "gateway" ? await gateway(deps) : await baseline(deps);
process.on("message", async (m: Command) => {
  switch (m.cmd) {
    case "publish":
      await publish(deps.bus, m);
      send({ published: m.events });
      return;
    case "rss":
      (globalThis as { gc?: () => void }).gc?.();
      send({ rss: process.memoryUsage() });
      return;
    case "stop":
      await server.stop();
      await deps.close();
      send({ stopped: true });
      process.exit(0);
  }
});
send({ url: server.url });
