// A consumer process for the stall test: its "database" is unreachable, so every message
// fails with a transient error (ECONNREFUSED) and the partition stalls; it prints each
// attempt until the test kills it with SIGKILL.
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
    process.stdout.write(`attempt ${e.seq}\n`);
    throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
      code: "ECONNREFUSED",
    });
  },
});
