// The DLQ tool on a real broker: the shared story (dlq-scenario.ts), then `pnpm dlq`
// itself run as a child process, as an operator would, for list and redrive --all.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { envelope } from "@pw/events";
import { kafkaFixture, waitFor } from "@pw/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { createDlqTool, type ParkedMessage } from "./dlq.ts";
import { dlqScenario } from "./dlq-scenario.ts";
import { createKafkaBus } from "./kafka.ts";
import { toMessage } from "./typed.ts";
import { NonRetryableError } from "./types.ts";

const kafka = await kafkaFixture();
const run = promisify(execFile);
const CLI = join(import.meta.dirname, "dlq-cli.ts");

/** Runs `pnpm dlq …` (what the root script runs); never throws, returns the exit code. */
async function dlq(args: string[], env: Record<string, string | undefined>) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, NODE_OPTIONS: process.env.NODE_OPTIONS, ...env },
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe.runIf(kafka)("dlq tool on kafka", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await kafka?.stop();
  });

  dlqScenario(`kafka (${kafka?.source})`, () => ({
    makeBus: () => createKafkaBus({ brokers: kafka!.brokers, sessionTimeout: 10_000 }),
    tool: (bus) => createDlqTool(bus, { kafka: { brokers: kafka!.brokers } }),
    unique: (p) => kafka!.uniqueName(p),
    timeoutMs: 45_000,
  }));

  it("pnpm dlq list shows the reason; redrive --all applies the fixed message once", async () => {
    const prefix = `${kafka!.uniqueName("cli")}.`;
    const env = { KAFKA_BROKERS: kafka!.brokers.join(","), KAFKA_TOPIC_PREFIX: prefix };
    const bus = createKafkaBus({
      brokers: kafka!.brokers,
      topicPrefix: prefix,
      sessionTimeout: 10_000,
    });
    const tool = createDlqTool(bus, { kafka: { brokers: kafka!.brokers, topicPrefix: prefix } });
    cleanups.push(async () => {
      await tool.close();
      await bus.close();
    });
    const topic = "lead.events.v1";
    await bus.ensureTopics([{ name: topic, partitions: 2 }]);
    let fixed = false;
    const applied = new Map<string, number>();
    await bus.subscribe<{ id: string; data: { kind: string } }>({
      groupId: "cli-app",
      topic,
      decode: (v) => v as { id: string; data: { kind: string } },
      handler: async (e) => {
        if (e.data.kind === "bad" && !fixed)
          throw new NonRetryableError("kind bad is not wired yet");
        applied.set(e.id, (applied.get(e.id) ?? 0) + 1);
      },
    });
    const bad = envelope({
      type: "lead.test.v1",
      source: "pw://cli-test",
      subject: "lead-9",
      data: { kind: "bad" },
    });
    await bus.publish(topic, [toMessage(bad)]);
    await waitFor(async () => (await tool.listDlq(topic)).length === 1, {
      timeoutMs: 45_000,
      message: "the message parked",
    });

    const table = await dlq(["list", topic], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain("kind bad is not wired yet");
    expect(table.stdout).toContain(bad.id);
    const json = await dlq(["list", `${topic}.dlq`, "--json"], env);
    expect(json.code, json.stderr).toBe(0);
    const listed = JSON.parse(json.stdout) as ParkedMessage[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      originalTopic: topic,
      key: "lead-9",
      eventId: bad.id,
      attempts: 1,
      reason: "NonRetryableError: kind bad is not wired yet",
    });
    const depth = await dlq(["depth", "--json"], env);
    expect(JSON.parse(depth.stdout)).toEqual([{ topic, dlqTopic: `${topic}.dlq`, waiting: 1 }]);

    fixed = true;
    const redriven = await dlq(["redrive", topic, "--all"], env);
    expect(redriven.code, redriven.stderr).toBe(0);
    expect(redriven.stdout).toContain(`redriven 1 message(s) to ${topic}`);
    await waitFor(() => applied.get(bad.id) === 1, { timeoutMs: 45_000, message: "applied" });

    const again = await dlq(["redrive", topic, "--all"], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("nothing matched");
    // Anything a second redrive had published would be applied before this sentinel.
    const sentinel = envelope({
      type: "lead.test.v1",
      source: "pw://cli-test",
      subject: "lead-9",
      data: { kind: "good" },
    });
    await bus.publish(topic, [toMessage(sentinel)]);
    await waitFor(() => applied.get(sentinel.id) === 1, { timeoutMs: 45_000, message: "sentinel" });
    expect(applied.get(bad.id)).toBe(1);
    expect(await tool.listDlq(topic)).toEqual([]);
  });

  it("pnpm dlq: usage and configuration errors exit 2 and say what is wrong", async () => {
    const env = { KAFKA_BROKERS: kafka!.brokers.join(",") };
    const noSelector = await dlq(["redrive", "lead.events.v1"], env);
    expect(noSelector.code).toBe(2);
    expect(noSelector.stderr).toContain("choose the messages with --all");
    const noBrokers = await dlq(["list", "lead.events.v1"], {});
    expect(noBrokers.code).toBe(2);
    expect(noBrokers.stderr).toContain("KAFKA_BROKERS");
    const unknown = await dlq(["list", kafka!.uniqueName("nope")], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown topic");
  });
});
