// A command on real PostgreSQL and Kafka: an operator signs in, engages the kill switch,
// and the signed command reaches the broker's topic exactly once, with its audit row.
import { type Bus, createKafkaBus } from "@pw/bus";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/gateway";
import { ALL_TOPICS, commandKeyPair, Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import {
  kafkaFixture,
  postgresFixture,
  type TestDatabase,
  topicMessageCount,
  waitFor,
} from "@pw/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "./auth/password.ts";
import { gatewayConfig } from "./config.ts";
import { type RunningGateway, startGateway } from "./start.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();
const PASSWORD = "integration passphrase";

describe.runIf(kafka && pg)("gateway commands on PostgreSQL and Kafka", () => {
  let database: TestDatabase;
  let db: DbHandle;
  let bus: Bus;
  let prefix: string;
  let gateway: RunningGateway;

  beforeAll(async () => {
    database = await pg!.createDatabase("pw_gateway");
    db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    prefix = `${kafka!.uniqueName("gateway")}.`;
    bus = createKafkaBus({ brokers: kafka!.brokers, topicPrefix: prefix, sessionTimeout: 10_000 });
    await bus.ensureTopics(ALL_TOPICS.map((topic) => ({ name: topic, partitions: 3 })));
    const keys = commandKeyPair("gw-int");
    gateway = await startGateway(
      gatewayConfig({
        PORT: "0",
        GATEWAY_OPERATORS: `ada:operator:${await hashPassword(PASSWORD)}`,
        OPERATOR_COMMAND_PRIVATE_KEY: keys.privateKey
          .export({ format: "der", type: "pkcs8" })
          .toString("base64"),
        OPERATOR_COMMAND_KEY_ID: keys.keyId,
      }),
      {
        db,
        bus,
        listen: false,
        logger: createLogger({
          service: "gateway-int",
          level: (process.env.TEST_LOG_LEVEL ?? "silent") as "silent",
        }),
      },
    );
  });

  afterAll(async () => {
    await gateway?.stop();
    await bus?.close();
    await db?.close();
    await database?.drop();
  });

  it("publishes a kill switch exactly once, with its audit row", async () => {
    const login = await gateway.app.inject({
      method: "POST",
      url: "/api/login",
      payload: { username: "ada", password: PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    const cookie = String(login.headers["set-cookie"]).split(";")[0]!;
    const res = await gateway.app.inject({
      method: "POST",
      url: "/api/commands/kill-switch",
      headers: { cookie, "x-csrf-token": login.json().csrfToken },
      payload: { engaged: true, reason: "integration" },
    });
    expect(res.statusCode).toBe(202);
    const { commandId } = res.json();

    const topic = `${prefix}${Topics.operatorCommands}`;
    await waitFor(async () => (await topicMessageCount(kafka!.brokers, topic)) >= 1, {
      timeoutMs: 30_000,
      message: "the command on the broker",
    });
    // The relay marks the row published; nothing more is sent after that.
    await waitFor(
      async () =>
        (await db.db.select().from(schema.gatewayOutbox)).every((r) => r.publishedAt !== null),
      { timeoutMs: 10_000, message: "the outbox row marked published" },
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await topicMessageCount(kafka!.brokers, topic)).toBe(1);

    const rows = await db.db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.commandId, commandId));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      commandType: "operator.kill_switch.v1",
      operator: "ada",
      role: "operator",
      subject: "operator:global",
      result: "published",
    });
  });
});
