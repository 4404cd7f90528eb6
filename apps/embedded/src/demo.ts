/**
 * `pnpm demo`: the whole loop on one machine with nothing but Node. Every service in one
 * process through its own `startX` (startEmbedded: the in-process bus, PGlite under
 * `.data/`, the built-in scorer, copywriter and classifier, the outreach agent into its
 * simulated inbox), the demo clock (days of cadence in minutes), the recipients of a world
 * file answering on that clock, and the dashboard (`next start`, built when missing or
 * stale). It prints where to look and how to sign in, and runs until Ctrl-C; the data
 * stays for the next start (`--reset` starts clean).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";
import { hashPassword } from "@pw/gateway/password";
import { createLogger } from "@pw/logger";
import { readWorldFile } from "@pw/simulator";
import { dashboardBuildStale, WEB_DIR } from "../../web/build-state.ts";
import { type RecipientSimulator, startRecipientSimulator } from "./recipients.ts";
import { type Embedded, startEmbedded } from "./start.ts";

export const ROOT = join(import.meta.dirname, "../../..");

export type DemoOptions = {
  /** Where the demo keeps its database, secrets and log (default `.data/` at the root). */
  dataDir: string;
  reset: boolean;
  /** The recipients' world file; undefined: nobody answers (`--no-recipients`). */
  world: string | undefined;
  /** How much faster than the wall clock the demo runs (720: an hour in 5 s). */
  clockScale: number;
  ports: { dashboard: number; gateway: number; ingest: number };
  /** Start the dashboard (`next start`); tests of the services alone leave it off. */
  dashboard: boolean;
  /** Variables that win over the demo's own (the caller's environment). */
  env: Record<string, string | undefined>;
  /** Where progress and the banner go. */
  say: (line: string) => void;
};

export const DEFAULT_WORLD = join(ROOT, "data/worlds/demo.json");

export const DEMO_DEFAULTS: DemoOptions = {
  dataDir: join(ROOT, ".data"),
  reset: false,
  world: DEFAULT_WORLD,
  clockScale: 720,
  ports: { dashboard: 3000, gateway: 4000, ingest: 4100 },
  dashboard: true,
  env: {},
  say: (line) => process.stderr.write(`${line}\n`),
};

/** What the demo keeps between starts (and `pnpm seed` reads): `.data/demo.json`, mode 600. */
export type DemoState = {
  webhookSecret: string;
  unsubscribeSecret: string;
  operator: { username: string; password: string };
  ingestUrl: string;
  gatewayUrl: string;
  dashboardUrl: string;
};

export class DemoError extends Error {
  override name = "DemoError";
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once("error", () => resolve(false))
      .once("listening", () => server.close(() => resolve(true)))
      .listen(port, "127.0.0.1");
  });
}

const NEXT_BIN = () => createRequire(join(WEB_DIR, "package.json")).resolve("next/dist/bin/next");

async function buildDashboard(say: (line: string) => void): Promise<void> {
  say("… building the dashboard (next build; once, and again when its sources change)");
  const started = Date.now();
  const child = spawn(process.execPath, [NEXT_BIN(), "build"], {
    cwd: WEB_DIR,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const progress = setInterval(
    () => say(`  … still building (${Math.round((Date.now() - started) / 1000)} s)`),
    15_000,
  );
  child.stdout!.on("data", (d) => output.push(String(d)));
  child.stderr!.on("data", (d) => output.push(String(d)));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearInterval(progress);
  if (code !== 0) throw new DemoError(`the dashboard's build failed:\n${output.join("")}`);
  say(`  built in ${Math.round((Date.now() - started) / 1000)} s`);
}

async function startDashboard(o: {
  port: number;
  gatewayUrl: string;
  env: Record<string, string | undefined>;
}): Promise<ChildProcess & { output: string[] }> {
  const child = spawn(
    process.execPath,
    [NEXT_BIN(), "start", "-p", String(o.port), "-H", "127.0.0.1"],
    {
      cwd: WEB_DIR,
      env: {
        ...process.env,
        ...o.env,
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        GATEWAY_URL: o.gatewayUrl,
        PW_ENVIRONMENT: "demo",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  ) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout!.on("data", (d) => child.output.push(String(d)));
  child.stderr!.on("data", (d) => child.output.push(String(d)));
  const url = `http://127.0.0.1:${o.port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new DemoError(`the dashboard exited: ${child.output.join("").slice(-2000)}`);
    const ok = await fetch(`${url}/login`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill("SIGKILL");
  throw new DemoError(`the dashboard did not answer on ${url} within 60 s`);
}

/** RSS of a process in bytes (Linux /proc), 0 when unknown. */
function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function loadState(
  file: string,
  urls: Pick<DemoState, "ingestUrl" | "gatewayUrl" | "dashboardUrl">,
) {
  let state: DemoState | undefined;
  if (existsSync(file)) {
    try {
      state = JSON.parse(readFileSync(file, "utf8")) as DemoState;
    } catch {
      state = undefined;
    }
  }
  const next: DemoState = {
    webhookSecret: state?.webhookSecret ?? `whsec_${randomBytes(24).toString("base64")}`,
    unsubscribeSecret: state?.unsubscribeSecret ?? randomBytes(32).toString("base64url"),
    operator: state?.operator ?? {
      username: "demo",
      password: randomBytes(12).toString("base64url"),
    },
    ...urls,
  };
  await writeFile(file, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return next;
}

export type RunningDemo = {
  state: DemoState;
  stack: Embedded;
  recipients: RecipientSimulator | undefined;
  dashboard: (ChildProcess & { output: string[] }) | undefined;
  /** Milliseconds from the call to everything answering. */
  startedInMs: number;
  /** Resident memory of the demo (this process and the dashboard's), bytes. */
  rss(): number;
  stop(): Promise<void>;
};

/** Starts the demo; the caller decides when to stop it (the CLI: on Ctrl-C). */
export async function startDemo(given: Partial<DemoOptions> = {}): Promise<RunningDemo> {
  const o: DemoOptions = {
    ...DEMO_DEFAULTS,
    ...given,
    ports: { ...DEMO_DEFAULTS.ports, ...given.ports },
  };
  const started = Date.now();
  const used = [o.ports.gateway, o.ports.ingest, ...(o.dashboard ? [o.ports.dashboard] : [])];
  for (const port of used)
    if (port !== 0 && !(await portFree(port)))
      throw new DemoError(
        `port ${port} is in use (another demo still running?); stop it, or choose ports with --gateway-port, --ingest-port, --dashboard-port`,
      );
  if (o.reset) {
    o.say(`… --reset: deleting the demo's data in ${o.dataDir}`);
    await rm(o.dataDir, { recursive: true, force: true });
  }
  await mkdir(o.dataDir, { recursive: true });
  const world = o.world ? await readWorldFile(o.world) : undefined;
  if (o.dashboard && dashboardBuildStale()) await buildDashboard(o.say);

  const urls = {
    ingestUrl: `http://127.0.0.1:${o.ports.ingest}`,
    gatewayUrl: `http://127.0.0.1:${o.ports.gateway}`,
    dashboardUrl: `http://127.0.0.1:${o.ports.dashboard}`,
  };
  const state = await loadState(join(o.dataDir, "demo.json"), urls);
  const log = createWriteStream(join(o.dataDir, "demo.log"), { flags: "a" });
  const logger = createLogger({ service: "demo", level: "info", destination: log });
  const env: Record<string, string | undefined> = {
    // The demo's clock and pace: days of cadence in minutes; learning visible in minutes.
    DISPATCH_CLOCK_SCALE: String(o.clockScale),
    EXPERIMENT_CLOCK_SCALE: String(o.clockScale),
    DISPATCH_QUIET_HOURS: "off",
    EXPERIMENT_REVIEW_EVERY_MS: "2000",
    EXPERIMENT_DAILY_CAPACITY: "100000",
    EXPERIMENT_SUPPRESSION_MIN_SENDS: "25",
    EXPERIMENT_GUARDRAIL_MIN_SENDS: "20",
    // Loopback only; plain http there, so the session cookie cannot be Secure.
    HOST: "127.0.0.1",
    GATEWAY_SECURE_COOKIES: "false",
    PORT: "0",
    LOG_LEVEL: "info",
    ...o.env,
    WEBHOOK_SECRET: state.webhookSecret,
    UNSUBSCRIBE_SECRET: state.unsubscribeSecret,
    UNSUBSCRIBE_BASE_URL: urls.ingestUrl,
    GATEWAY_OPERATORS: `${state.operator.username}:admin:${await hashPassword(state.operator.password)}`,
    // The lead page's "simulate a reply / meeting / conversion / unsubscribe".
    GATEWAY_DEMO_INGEST_URL: urls.ingestUrl,
    GATEWAY_DEMO_WEBHOOK_SECRET: state.webhookSecret,
  };
  o.say("… starting every service in this process (PGlite, in-process bus)");
  const stack = await startEmbedded({
    env,
    dataDir: join(o.dataDir, "pglite"),
    listen: true,
    ports: { gateway: o.ports.gateway, ingest: o.ports.ingest },
    logger,
  });
  let recipients: RecipientSimulator | undefined;
  let dashboard: (ChildProcess & { output: string[] }) | undefined;
  const stop = async () => {
    if (dashboard && dashboard.exitCode === null) {
      dashboard.kill("SIGTERM");
      await Promise.race([
        new Promise((r) => dashboard!.once("exit", r)),
        new Promise((r) => setTimeout(r, 5_000)),
      ]);
      if (dashboard.exitCode === null) dashboard.kill("SIGKILL");
    }
    await recipients?.stop();
    await stack.stop();
    await new Promise((r) => log.end(r));
  };
  try {
    if (world)
      recipients = await startRecipientSimulator({
        bus: stack.bus,
        ingestUrl: stack.ingest.url ?? urls.ingestUrl,
        webhookSecret: state.webhookSecret,
        unsubscribeSecret: state.unsubscribeSecret,
        world,
        clockScale: o.clockScale,
        logger,
      });
    if (o.dashboard) {
      o.say("… starting the dashboard (next start)");
      dashboard = await startDashboard({
        port: o.ports.dashboard,
        gatewayUrl: stack.gateway.url ?? urls.gatewayUrl,
        env: o.env,
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    state,
    stack,
    recipients,
    dashboard,
    startedInMs: Date.now() - started,
    rss: () => process.memoryUsage.rss() + rssOf(dashboard?.pid),
    stop,
  };
}

/** The lines a presenter needs: where to look, how to sign in, how to feed it. */
export function banner(demo: RunningDemo, o: { world: string | undefined; clockScale: number }) {
  const { state } = demo;
  const mb = (n: number) => `${Math.round(n / 1048576)} MiB`;
  return [
    "",
    `Pipeline Whisperer demo — ready in ${(demo.startedInMs / 1000).toFixed(1)} s, ${mb(demo.rss())} resident`,
    "",
    `  dashboard       ${state.dashboardUrl}`,
    `  operator login  ${state.operator.username} / ${state.operator.password}`,
    `  ingest          ${state.ingestUrl}  (webhooks: /webhooks/lightfield, /webhooks/signals, /webhooks/outcomes)`,
    `  webhook secret  ${state.webhookSecret}`,
    `  gateway API     ${state.gatewayUrl}`,
    `  demo clock      ${o.clockScale}× (an hour of cadence passes in ${(3600 / o.clockScale).toFixed(1)} s)`,
    `  recipients      ${o.world ? `answering as ${o.world.replace(`${ROOT}/`, "")}` : "off (--no-recipients)"}`,
    "",
    "  Feed it:  pnpm seed                    (replays data/sample-events: leads, accounts, signals)",
    "            pnpm seed --simulate 300 --rate 40 --world data/worlds/demo.json   (new leads on the fly)",
    "            pnpm seed --outcome converted --lead <lead id>",
    "  Secrets and URLs are in .data/demo.json (pnpm seed reads it); logs in .data/demo.log.",
    "  Ctrl-C stops it; the data stays for the next start (pnpm demo --reset starts clean).",
    "",
  ].join("\n");
}
