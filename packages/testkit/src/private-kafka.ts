// A private single-node Kafka broker for tests that must stop and start "the
// broker" without disturbing the suites sharing the main one. Uses
// scripts/services.sh with its own data directory and ports, and the jars the
// main broker already fetched.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePorts } from "./free-port.ts";

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, "../../..");
const script = join(repoRoot, "scripts/services.sh");

export type PrivateKafka = {
  brokers: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
};

/** Null when this machine cannot run one (no script-managed Kafka jars). */
export async function privateKafka(): Promise<PrivateKafka | null> {
  const lib = process.env.KAFKA_LIB_DIR ?? join(repoRoot, ".services/kafka/lib");
  const { existsSync } = await import("node:fs");
  if (!existsSync(join(lib, ".complete"))) return null;
  const dir = await mkdtemp(join(tmpdir(), "pw-kafka-"));
  // Two distinct ports: picked one after the other, the OS may give the same one twice.
  const [port, controllerPort] = await freePorts(2);
  const env = {
    ...process.env,
    PW_SERVICES_DIR: dir,
    KAFKA_LIB_DIR: lib,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
  };
  const call = (cmd: string) =>
    run("bash", [script, cmd], { env, timeout: 240_000 }).then(() => {});
  return {
    brokers: [`127.0.0.1:${port}`],
    start: () => call("kafka-up"),
    stop: () => call("kafka-down"),
    async destroy() {
      await call("kafka-down").catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
