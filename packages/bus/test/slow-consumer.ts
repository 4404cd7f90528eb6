// A consumer process for the crash test: handles messages slowly, printing each
// one, until the test kills it with SIGKILL.
import { createKafkaBus } from "../src/kafka.ts";

const bus = createKafkaBus({
  brokers: (process.env.KAFKA_BROKERS ?? "").split(","),
  sessionTimeout: 6_000,
});
await bus.subscribe({
  groupId: process.env.GROUP_ID!,
  topic: process.env.TOPIC!,
  decode: (v) => v as { seq: number },
  handler: async (e) => {
    await new Promise((r) => setTimeout(r, 5));
    process.stdout.write(`seq ${e.seq}\n`);
  },
});
