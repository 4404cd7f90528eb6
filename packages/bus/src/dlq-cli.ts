// `pnpm dlq <command> …` — depth, list, redrive and drop on a Kafka DLQ (see USAGE in
// dlq-args.ts). Reads the bus settings the services read. Exit 2 on a bad argument or
// setting (one line naming it, then a one-line usage hint), 1 when the action fails
// (broker, unknown topic, selector matching nothing): its message, never a stack trace.
import { BusConfig, ConfigError, parseConfig } from "@pw/config";
import { createDlqTool, type DlqActionResult, type DlqDepth, type ParkedMessage } from "./dlq.ts";
import { parseDlqArgs, USAGE, UsageError } from "./dlq-args.ts";
import { createBus } from "./index.ts";
import { kafkaClientConfig } from "./kafka.ts";

async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseDlqArgs>;
  let bus: Extract<BusConfig["bus"], { driver: "kafka" }>;
  try {
    args = parseDlqArgs(argv);
    if (args.command === "help") {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const config = parseConfig(BusConfig, {
      ...process.env,
      BUS_DRIVER: process.env.BUS_DRIVER || "kafka",
    });
    if (config.bus.driver !== "kafka")
      throw new UsageError(
        "BUS_DRIVER=memory: the in-process bus lives inside the embedded process; pnpm dlq works on Kafka",
      );
    bus = config.bus;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(
        `dlq: ${error.message}\n${USAGE.split("\n")[0]}  (--help for details)\n`,
      );
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`dlq: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  // The bus exactly as the services connect (TLS and SASL included), under its own client id.
  const settings = { ...bus, clientId: `${bus.clientId}-dlq` };
  const { ssl, sasl } = kafkaClientConfig(settings);
  const kafkaBus = createBus(settings);
  const tool = createDlqTool(kafkaBus, {
    kafka: {
      brokers: settings.brokers,
      clientId: settings.clientId,
      topicPrefix: settings.topicPrefix,
      replicationFactor: settings.replicationFactor,
      ssl,
      sasl,
    },
  });
  try {
    switch (args.command) {
      case "depth": {
        const depths = await tool.dlqDepth(args.topics.length > 0 ? args.topics : undefined);
        print(args.json, depths, formatDepths);
        return 0;
      }
      case "list": {
        const parked = await tool.listDlq(args.topic);
        print(args.json, parked, formatParked);
        return 0;
      }
      case "redrive":
      case "drop": {
        const result =
          args.command === "redrive"
            ? await tool.redrive({ topic: args.topic, which: args.which })
            : await tool.drop({ topic: args.topic, which: args.which, note: args.note });
        print(args.json, result, formatResult);
        return 0;
      }
    }
  } catch (error) {
    process.stderr.write(`dlq ${args.command}: ${oneLine((error as Error).message, 1_000)}\n`);
    return 1;
  } finally {
    await tool.close();
    await kafkaBus.close();
  }
}

function print<T>(json: boolean, value: T, format: (v: T) => string) {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${format(value)}\n`);
}

function formatDepths(depths: DlqDepth[]): string {
  if (depths.length === 0) return "no DLQ topics";
  return table(
    ["DLQ", "WAITING"],
    depths.map((d) => [d.dlqTopic, String(d.waiting)]),
  );
}

function formatParked(parked: ParkedMessage[]): string {
  if (parked.length === 0) return "nothing parked";
  const rows = parked.map((m) => [
    `${m.dlqPartition}/${m.dlqOffset}`,
    `${m.originalPartition}/${m.originalOffset}`,
    m.key,
    m.eventType ? `${m.eventType} ${m.eventId ?? ""}`.trim() : (m.eventId ?? "-"),
    String(m.attempts),
    m.parkedAt,
    m.consumerGroup ?? "-",
    m.failureKind ?? m.errorClass ?? "-",
    oneLine(m.reason, 100),
  ]);
  return `${table(["DLQ P/OFF", "FROM P/OFF", "KEY", "EVENT", "TRIES", "PARKED AT", "GROUP", "KIND", "REASON"], rows)}\n${parked.length} parked`;
}

function formatResult(r: DlqActionResult): string {
  const verb =
    r.action === "redrive"
      ? `redriven ${r.published} message(s) to ${r.topic}`
      : `dropped ${r.handled.length} message(s) to ${r.topic}.dlq.dropped`;
  const summary = `${verb}; ${r.reparked} other(s) re-parked at the DLQ's tail`;
  return r.handled.length === 0
    ? "nothing matched: nothing done"
    : `${formatParked(r.handled)}\n${summary}`;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

function oneLine(text: string, max: number): string {
  const s = text.replace(/\s+/g, " ");
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

// Whatever escapes main (the bus failing to open or close) is one line too.
process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `dlq: ${oneLine(error instanceof Error ? error.message : String(error), 1_000)}\n`,
  );
  return 1;
});
