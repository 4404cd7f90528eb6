// `pnpm stack` — the distributed topology on this machine, without Docker: PostgreSQL and
// Kafka (scripts/services.sh), the migrations, every app as its own process (consumer
// services scalable), the outreach agent, the gateway and the dashboard. The processes
// keep running after the command returns; `pnpm stack status` and `pnpm stack down`
// find them through .stack/state.json. The core is scripts/stack/start.ts (`startStack`),
// which the stack's end-to-end test and `pnpm bench:e2e` start too.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stackDown, stackStatus } from "./stack/control.ts";
import { checkScale, ROOT, StackError, type StackOptions, startStack } from "./stack/start.ts";

const USAGE = `usage:
  pnpm stack [up] [--scale <app>=<n>]… [--free-ports] [--no-web]
  pnpm stack status
  pnpm stack down [--services] [--timeout <seconds>]

up        starts PostgreSQL + Kafka (unless KAFKA_BROKERS and DATABASE_URL are set), runs the
          migrations, then every app as its own process; prints the URLs, the dashboard login
          and the webhook secret, and returns (the processes keep running).
          --scale scoring=2 (repeatable, or scoring=2,dispatch=3): instances of ingest, scoring,
          experiments or dispatch; instance n listens on the app's port + n - 1.
          --free-ports: any free ports instead of 3000, 4000, 4100…  --no-web: no dashboard.
          Every variable of your environment reaches every process (e.g. DISPATCH_QUIET_HOURS=off,
          KAFKA_TOPIC_PREFIX=dev., LOG_LEVEL=debug).
status    each process: alive, and what its /readyz answers. Exit 1 unless all are ready.
down      SIGTERM to every process, SIGKILL after --timeout (default 15 s). PostgreSQL and Kafka
          stay up unless --services.
State, logs and secrets: .stack/ (state.json, logs/<app>-<n>.log, secrets.env mode 600);
PW_STACK_DIR=<dir> keeps them elsewhere (a second stack beside the first, with --free-ports).`;

const STATE_DIR = process.env.PW_STACK_DIR ?? join(ROOT, ".stack");
const progress = (line: string) => process.stderr.write(`${line}\n`);

function fail(message: string, code = 2): never {
  process.stderr.write(`pnpm stack: ${message}\n`);
  process.exit(code);
}

/** `--scale a=1 --scale b=2,c=3` → {a:1, b:2, c:3}; a malformed one is named. */
function parseScale(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const value of values)
    for (const part of value.split(",").filter(Boolean)) {
      const m = /^([a-z-]+)=(\S+)$/.exec(part.trim());
      if (!m) fail(`--scale ${part}: expected <app>=<count>, e.g. --scale scoring=2`);
      out[m[1]!] = Number(m[2]);
    }
  return out;
}

function parse(args: string[], options: NonNullable<Parameters<typeof parseArgs>[0]>["options"]) {
  try {
    return parseArgs({ args, options: options ?? {}, allowPositionals: false, strict: true });
  } catch (error) {
    // node:util names the option ("Unknown option '--scal'"); the usage says what exists.
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
}

async function up(args: string[]) {
  const { values } = parse(args, {
    scale: { type: "string", multiple: true },
    "free-ports": { type: "boolean" },
    "no-web": { type: "boolean" },
  });
  let scale: StackOptions["scale"];
  try {
    scale = checkScale(parseScale((values.scale as string[] | undefined) ?? []));
  } catch (error) {
    fail(`--${(error as Error).message}`);
  }
  let interrupted = false;
  // The processes run in their own process groups: Ctrl-C during the start reaches only
  // this one, which then stops what it has started.
  process.once("SIGINT", () => {
    interrupted = true;
    progress("\n==> interrupted: stopping what has started");
    void stackDown(STATE_DIR, { timeoutMs: 10_000, services: false, progress }).finally(() =>
      process.exit(130),
    );
  });
  const started = Date.now();
  let stack: Awaited<ReturnType<typeof startStack>>;
  try {
    stack = await startStack({
      scale,
      ports: values["free-ports"] ? "free" : "default",
      web: !values["no-web"],
      stateDir: STATE_DIR,
      detached: true,
      progress,
    });
  } catch (error) {
    if (interrupted) return;
    fail(
      error instanceof StackError ? error.message : ((error as Error).stack ?? String(error)),
      1,
    );
  }
  const count = (app: Parameters<typeof stack.of>[0]) => stack.of(app).length;
  const lines = [
    "",
    `Pipeline Whisperer stack is up: ${stack.instances.length} processes in ${Math.round((Date.now() - started) / 1000)} s (scoring ×${count("scoring")}, experiments ×${count("experiments")}, dispatch ×${count("dispatch")}, ingest ×${count("ingest")}).`,
    ...(stack.webUrl ? [`  dashboard        ${stack.webUrl}`] : []),
    ...(stack.operator
      ? [`  sign in as       ${stack.operator.username} / ${stack.operator.password}`]
      : ["  sign in          with an account from your GATEWAY_OPERATORS"]),
    `  gateway (API)    ${stack.gatewayUrl}`,
    `  ingest           ${stack.ingestUrls.join("  ")}   POST /webhooks/lightfield | /webhooks/signals | /webhooks/outcomes`,
    `  webhook secret   ${stack.webhookSecret}   (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature)`,
    `  kafka            ${stack.kafkaBrokers.join(",")}${stack.topicPrefix ? `  (topic prefix ${stack.topicPrefix})` : ""}`,
    `  logs             ${join(stack.stateDir, "logs")}/<app>-<n>.log`,
    "  next             pnpm stack status  ·  pnpm stack down  (--services also stops PostgreSQL and Kafka)",
    "",
  ];
  process.stdout.write(lines.join("\n"));
  process.exit(0);
}

async function status(args: string[]) {
  parse(args, {});
  const s = await stackStatus(STATE_DIR);
  if (s.instances.length === 0) fail(`${s.summary}: start one with \`pnpm stack\``, 1);
  const rows = s.instances.map(
    (i) =>
      `  ${i.name.padEnd(18)} pid ${String(i.pid).padEnd(8)} ${i.url.padEnd(24)} ${
        !i.alive ? "DEAD " : i.ready ? "ready" : "NOT READY"
      }  ${i.ready ? "" : i.detail}`,
  );
  const ready = s.instances.filter((i) => i.ready).length;
  process.stdout.write(
    [
      `${s.starting ? "starting" : "stack"}: ${ready}/${s.instances.length} ready — ${s.summary}`,
      ...rows,
      "",
    ].join("\n"),
  );
  process.exit(ready === s.instances.length ? 0 : 1);
}

async function down(args: string[]) {
  const { values } = parse(args, {
    services: { type: "boolean" },
    timeout: { type: "string" },
  });
  const seconds = values.timeout === undefined ? 15 : Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 600)
    fail(`--timeout ${values.timeout}: seconds from 0 to 600`);
  const r = await stackDown(STATE_DIR, {
    timeoutMs: seconds * 1000,
    services: Boolean(values.services),
    progress,
  });
  progress(
    `==> ${r.stopped} process${r.stopped === 1 ? "" : "es"} stopped${r.killed.length ? ` (${r.killed.join(", ")} killed after ${seconds} s)` : ""}${values.services ? "; PostgreSQL and Kafka stopped" : "; PostgreSQL and Kafka left running"}`,
  );
}

const [command = "up", ...rest] = process.argv.slice(2);
const commands: Record<string, (args: string[]) => Promise<void>> = { up, status, down };
if (command === "--help" || command === "-h" || command === "help") {
  process.stdout.write(`${USAGE}\n`);
} else if (command.startsWith("--")) {
  await up([command, ...rest]);
} else if (commands[command]) {
  await commands[command]!(rest);
} else {
  fail(`unknown command "${command}" (up, status, down)\n\n${USAGE}`);
}
