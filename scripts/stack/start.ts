/**
 * `startStack(options)`: the distributed topology on one machine, without Docker — the
 * core of `pnpm stack`, and what the stack's end-to-end test and `pnpm bench:e2e` start,
 * so all three run one code path. In order: PostgreSQL and Kafka (`scripts/services.sh
 * up`, unless KAFKA_BROKERS and DATABASE_URL are given), the migrations as a step, then
 * every app as its own process exactly as its `pnpm start` runs it (`node --import
 * @pw/telemetry/instrument src/main.ts` in apps/<app>), each instance on its own port
 * with its own log file, dispatch pointed at the outreach agent over HTTP, and the
 * dashboard (`next start`, built first when there is no build) pointed at the gateway.
 *
 * The services keep their production defaults; every variable of the caller's
 * environment is passed through to every process (DISPATCH_QUIET_HOURS,
 * KAFKA_TOPIC_PREFIX, LOG_LEVEL…). What the stack adds: the Kafka bus, the broker and
 * database it found, to each process the secrets it uses (secrets.ts) where the caller
 * gave none, the wiring between processes, and two local-machine defaults a caller may override —
 * unconfigured channels go to the agent's simulated inbox (there is no SMTP server here)
 * and the session cookie is not `Secure` (the dashboard is plain http on loopback).
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { dashboardBuildStale } from "../../apps/web/build-state.ts";
import {
  type AppName,
  DEFAULT_PORTS,
  FIRST,
  isScalable,
  MAX_SCALE,
  SCALABLE_APPS,
  type ScalableApp,
  SERVICE_APPS,
  type ServiceApp,
} from "./apps.ts";
import { freePorts, portsInUse } from "./ports.ts";
import { logTail, pidAlive, type Spawned, spawnLogged, stopAll, waitReady } from "./processes.ts";
import { loadOrCreateSecrets, type StackSecrets } from "./secrets.ts";
import {
  clearState,
  type InstanceState,
  maskUrl,
  readState,
  type StackState,
  writeState,
} from "./state.ts";

export const ROOT = resolve(import.meta.dirname, "../..");

export type StackOptions = {
  /** The variables every process gets (default: this process's environment). */
  env?: Record<string, string | undefined>;
  /** Instances per scalable app (default 1 each). */
  scale?: Partial<Record<ScalableApp, number>>;
  /** `default`: the fixed ports (gateway 4000, ingest 4100…); `free`: any free ones. */
  ports?: "default" | "free";
  /** Start the dashboard (default true). */
  web?: boolean;
  /** Where state.json, secrets.env and logs/ go (default `<repo>/.stack`). */
  stateDir?: string;
  /**
   * Leave the processes running after this process exits, each in its own process group
   * (`pnpm stack`). Default false: they are this process's children (tests, the bench).
   */
  detached?: boolean;
  /** How long each process may take to become ready (default 120 s). */
  readyTimeoutMs?: number;
  /** Progress lines (default: stderr). */
  progress?: (line: string) => void;
};

export type Instance = InstanceState & {
  alive(): boolean;
  /** Signals this one instance (SIGKILL to crash it, SIGTERM to stop it). */
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

export type Stack = {
  instances: Instance[];
  /** Every instance of `app`, by instance number. */
  of(app: AppName): Instance[];
  gatewayUrl: string;
  /** Undefined with `web: false`. */
  webUrl: string | undefined;
  ingestUrls: string[];
  kafkaBrokers: string[];
  databaseUrl: string;
  topicPrefix: string;
  /** The secrets in force (the caller's where given, else the stack's). */
  webhookSecret: string;
  /** The dashboard login the stack made; undefined when the caller gave GATEWAY_OPERATORS. */
  operator: { username: string; password: string } | undefined;
  stateDir: string;
  /** SIGTERM to every process, SIGKILL after `timeoutMs` (default 15 s); clears state.json. */
  stop(o?: { timeoutMs?: number }): Promise<void>;
};

export class StackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackError";
  }
}

/** Checks `--scale`-style counts: a known scalable app, a whole number 1..MAX_SCALE. */
export function checkScale(scale: Record<string, number>): Record<ScalableApp, number> {
  const out = Object.fromEntries(SCALABLE_APPS.map((a) => [a, 1])) as Record<ScalableApp, number>;
  for (const [app, n] of Object.entries(scale)) {
    if (!isScalable(app))
      throw new StackError(
        (SERVICE_APPS as readonly string[]).includes(app) || app === "web"
          ? `scale ${app}=${n}: ${app} runs as one instance (scalable: ${SCALABLE_APPS.join(", ")})`
          : `scale ${app}=${n}: no app named ${app} (scalable: ${SCALABLE_APPS.join(", ")})`,
      );
    if (!Number.isInteger(n) || n < 1 || n > MAX_SCALE)
      throw new StackError(
        `scale ${app}=${n}: the count must be a whole number from 1 to ${MAX_SCALE}`,
      );
    out[app] = n;
  }
  return out;
}

/** KAFKA_BROKERS and DATABASE_URL: the caller's when set, else scripts/services.sh's. */
export async function resolveServices(
  env: Record<string, string | undefined>,
  progress: (line: string) => void,
): Promise<{ brokers: string; databaseUrl: string }> {
  if (env.KAFKA_BROKERS && env.DATABASE_URL)
    return { brokers: env.KAFKA_BROKERS, databaseUrl: env.DATABASE_URL };
  progress("==> PostgreSQL and Kafka (scripts/services.sh up)");
  const script = join(ROOT, "scripts/services.sh");
  await new Promise<void>((done, fail) => {
    const child = spawn("bash", [script, "up"], {
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let tail = "";
    child.stderr.on("data", (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4_000);
      for (const line of d.toString().split("\n")) if (line.trim()) progress(`    ${line}`);
    });
    child.once("error", fail);
    child.once("exit", (code) =>
      code === 0
        ? done()
        : fail(new StackError(`scripts/services.sh up failed (exit ${code}):\n${tail}`)),
    );
  });
  const { stdout } = await promisify(execFile)("bash", [script, "env"], {
    env: env as NodeJS.ProcessEnv,
  });
  const found = Object.fromEntries(
    [...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  return {
    brokers: env.KAFKA_BROKERS || found.KAFKA_BROKERS!,
    databaseUrl: env.DATABASE_URL || found.DATABASE_URL!,
  };
}

/** `pnpm db:migrate` as a step, its output in logs/migrate.log. */
async function migrate(
  env: Record<string, string | undefined>,
  logs: string,
  progress: (line: string) => void,
): Promise<void> {
  progress("==> migrations (packages/db)");
  const log = join(logs, "migrate.log");
  const p = spawnLogged({
    name: "migrate",
    command: process.execPath,
    args: ["src/migrate-cli.ts"],
    cwd: join(ROOT, "packages/db"),
    env,
    log,
    detached: false,
  });
  const { code, signal } = await p.exited;
  if (code !== 0)
    throw new StackError(
      `migrations failed (${signal ?? `exit ${code}`}); ${log}:\n${logTail(log)}`,
    );
  progress(`    ${logTail(log, 1)}`);
}

const nextBin = () =>
  createRequire(join(ROOT, "apps/web/package.json")).resolve("next/dist/bin/next");

/** `next build` when apps/web has no production build or one older than its sources. */
async function ensureWebBuilt(
  env: Record<string, string | undefined>,
  logs: string,
  progress: (line: string) => void,
): Promise<void> {
  const web = join(ROOT, "apps/web");
  if (!dashboardBuildStale()) return;
  const log = join(logs, "web-build.log");
  const why = existsSync(join(web, ".next", "BUILD_ID"))
    ? "its sources changed since the last build"
    : "apps/web has no build yet";
  progress(`==> building the dashboard (${why}; log: ${log})`);
  const started = Date.now();
  const p = spawnLogged({
    name: "web-build",
    command: process.execPath,
    args: [nextBin(), "build"],
    cwd: web,
    env: { ...env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
    log,
    detached: false,
  });
  const ticker = setInterval(
    () => progress(`    still building… ${Math.round((Date.now() - started) / 1000)} s`),
    15_000,
  );
  const { code, signal } = await p.exited.finally(() => clearInterval(ticker));
  if (code !== 0)
    throw new StackError(
      `next build failed (${signal ?? `exit ${code}`}); ${log}:\n${logTail(log)}`,
    );
  progress(`    built in ${Math.round((Date.now() - started) / 1000)} s`);
}

type Planned = { app: AppName; n: number; port: number };

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const given = options.env ?? process.env;
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const stateDir = resolve(options.stateDir ?? join(ROOT, ".stack"));
  const logs = join(stateDir, "logs");
  const scale = checkScale(options.scale ?? {});
  const withWeb = options.web ?? true;
  const detached = options.detached ?? false;
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  if (given.BUS_DRIVER && given.BUS_DRIVER !== "kafka")
    throw new StackError(
      `BUS_DRIVER=${given.BUS_DRIVER}: the stack's processes talk through Kafka (unset it, or set it to kafka); the in-process bus is \`pnpm demo\``,
    );
  const previous = readState(stateDir);
  const running = previous?.instances.filter((i) => pidAlive(i.pid)) ?? [];
  if (running.length > 0)
    throw new StackError(
      `a stack is already running from ${stateDir} (${running.map((i) => `${i.name} pid ${i.pid}`).join(", ")}): \`pnpm stack status\` shows it, \`pnpm stack down\` stops it`,
    );
  mkdirSync(logs, { recursive: true });

  // Ports first: a taken default port fails now, not after a minute of starting.
  const plan: Planned[] = [];
  for (const app of SERVICE_APPS) {
    const count = isScalable(app) ? scale[app] : 1;
    for (let n = 1; n <= count; n++) plan.push({ app, n, port: DEFAULT_PORTS[app] + n - 1 });
  }
  if (withWeb) plan.push({ app: "web", n: 1, port: DEFAULT_PORTS.web });
  if (options.ports === "free") {
    const ports = await freePorts(plan.length);
    plan.forEach((p, i) => {
      p.port = ports[i]!;
    });
  } else {
    const taken = await portsInUse(plan.map((p) => p.port));
    if (taken.length > 0)
      throw new StackError(
        `port${taken.length > 1 ? "s" : ""} ${taken
          .map((port) => {
            const p = plan.find((x) => x.port === port)!;
            return `${port} (${p.app}-${p.n})`;
          })
          .join(
            ", ",
          )} already in use: stop what listens there (another stack? \`pnpm stack status\`), or start with --free-ports`,
      );
  }

  const { brokers, databaseUrl } = await resolveServices(given, progress);
  const { secrets, created } = await loadOrCreateSecrets(join(stateDir, "secrets.env"));
  if (created) progress(`==> secrets made once into ${join(stateDir, "secrets.env")} (mode 600)`);
  const env: Record<string, string | undefined> = {
    AGENT_UNCONFIGURED_CHANNELS: "simulate",
    GATEWAY_SECURE_COOKIES: "false",
    ...given,
    BUS_DRIVER: "kafka",
    KAFKA_BROKERS: brokers,
    DATABASE_URL: databaseUrl,
  };
  const keys = secretsIn(given, secrets);
  await migrate(env, logs, progress);
  if (withWeb) await ensureWebBuilt(env, logs, progress);

  const url = (p: Planned) => `http://127.0.0.1:${p.port}`;
  const portOf = (app: AppName, n = 1) => plan.find((p) => p.app === app && p.n === n)!.port;
  // Each process gets the stack's secrets it uses, and no others (the caller's own
  // variables reach every process, as given).
  const wiring: Record<ServiceApp, Record<string, string>> = {
    gateway: { GATEWAY_OPERATORS: keys.GATEWAY_OPERATORS, ...keys.signing },
    ingest: { WEBHOOK_SECRET: keys.WEBHOOK_SECRET, UNSUBSCRIBE_SECRET: keys.UNSUBSCRIBE_SECRET },
    // Every service that obeys operator commands verifies them (scoring: model rollbacks).
    scoring: { ...keys.verifying },
    experiments: { ...keys.verifying },
    dispatch: {
      ...keys.verifying,
      UNSUBSCRIBE_SECRET: keys.UNSUBSCRIBE_SECRET,
      TRUEFOUNDRY_AGENT_URL:
        given.TRUEFOUNDRY_AGENT_URL || `http://127.0.0.1:${portOf("outreach-agent")}`,
      TRUEFOUNDRY_AGENT_JWT_SECRET: given.TRUEFOUNDRY_AGENT_JWT_SECRET || keys.AGENT_JWT_SECRET,
      // The agent is plain http on loopback; the allowance covers loopback hosts only.
      ALLOW_INSECURE_VENDOR_URLS: "1",
      UNSUBSCRIBE_BASE_URL: given.UNSUBSCRIBE_BASE_URL || `http://127.0.0.1:${portOf("ingest")}`,
    },
    "outreach-agent": { AGENT_JWT_SECRET: keys.AGENT_JWT_SECRET },
  };

  const state: StackState = {
    startedAt: new Date().toISOString(),
    starting: true,
    root: ROOT,
    kafkaBrokers: brokers,
    database: maskUrl(databaseUrl),
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? "",
    instances: [],
  };
  const instances: Instance[] = [];
  const stop = async (o: { timeoutMs?: number } = {}) => {
    await stopAll(
      [...instances]
        .reverse()
        .map((i) => ({ name: i.name, pid: i.pid, group: i.group, cwd: i.cwd })),
      { timeoutMs: o.timeoutMs ?? 15_000, progress },
    );
    // Children of this process: wait for their exit to be reaped before returning.
    await Promise.all(instances.map((i) => i.exited));
    clearState(stateDir);
  };

  const launch = (p: Planned): { instance: Instance; spawned: Spawned } => {
    const name = `${p.app}-${p.n}`;
    // Real path: `down` recognises its processes by /proc/<pid>/cwd.
    const cwd = realpathSync(join(ROOT, "apps", p.app));
    const log = join(logs, `${name}.log`);
    const spawned =
      p.app === "web"
        ? spawnLogged({
            name,
            command: process.execPath,
            args: [nextBin(), "start", "-p", String(p.port), "-H", "127.0.0.1"],
            cwd,
            env: {
              ...env,
              NODE_ENV: "production",
              NEXT_TELEMETRY_DISABLED: "1",
              GATEWAY_URL: `http://127.0.0.1:${portOf("gateway")}`,
              PW_ENVIRONMENT: env.PW_ENVIRONMENT ?? "stack",
              PORT: String(p.port),
            },
            log,
            detached,
          })
        : spawnLogged({
            name,
            command: process.execPath,
            args: ["--import", "@pw/telemetry/instrument", "src/main.ts"],
            cwd,
            env: { ...env, ...wiring[p.app], PORT: String(p.port) },
            log,
            detached,
          });
    const record: InstanceState = {
      app: p.app,
      n: p.n,
      name,
      pid: spawned.pid,
      port: p.port,
      url: url(p),
      readyUrl: `${url(p)}${p.app === "web" ? "/login" : "/readyz"}`,
      log,
      cwd,
      group: detached,
    };
    const instance: Instance = {
      ...record,
      alive: spawned.alive,
      exited: spawned.exited,
      kill: (signal = "SIGTERM") => {
        try {
          process.kill(record.group ? -record.pid : record.pid, signal);
        } catch {
          // already gone
        }
      },
    };
    instances.push(instance);
    state.instances.push(record);
    writeState(stateDir, state);
    return { instance, spawned };
  };

  /**
   * Starts `group` at once and waits until every one of them is ready; the first that
   * exits or times out fails the start at once, with the end of its log.
   */
  const wave = (group: Planned[]) =>
    new Promise<void>((resolve, reject) => {
      let ready = 0;
      if (group.length === 0) resolve();
      for (const { instance, spawned } of group.map(launch))
        waitReady(spawned, instance.readyUrl, readyTimeoutMs).then((r) => {
          // After the first failure, later answers change nothing (a promise settles once).
          if (!r.ok) {
            reject(
              new StackError(
                `${instance.name} ${r.reason}; its log ${instance.log} ends:\n${logTail(instance.log)}`,
              ),
            );
            return;
          }
          ready++;
          progress(
            `    ready ${instance.name.padEnd(18)} ${instance.url}  (${(r.ms / 1000).toFixed(1)} s; ${ready}/${group.length})`,
          );
          if (ready === group.length) resolve();
        }, reject);
    });

  try {
    const first = plan.filter((p) => FIRST.includes(p.app as ServiceApp) && p.n === 1);
    progress(`==> starting ${plan.length} processes (logs: ${logs})`);
    await wave(first);
    await wave(plan.filter((p) => p.app !== "web" && !first.includes(p)));
    if (withWeb) await wave(plan.filter((p) => p.app === "web"));
  } catch (error) {
    progress("==> start failed; stopping what started");
    await stop({ timeoutMs: 10_000 });
    throw error;
  }
  state.starting = false;
  writeState(stateDir, state);

  const of = (app: AppName) => instances.filter((i) => i.app === app);
  const stackMade = !given.GATEWAY_OPERATORS;
  return {
    instances,
    of,
    gatewayUrl: of("gateway")[0]!.url,
    webUrl: of("web")[0]?.url,
    ingestUrls: of("ingest").map((i) => i.url),
    kafkaBrokers: brokers.split(",").map((b) => b.trim()),
    databaseUrl,
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? "",
    webhookSecret: keys.WEBHOOK_SECRET.split(",")[0]!.trim(),
    operator: stackMade
      ? { username: secrets.STACK_OPERATOR_USERNAME, password: secrets.STACK_OPERATOR_PASSWORD }
      : undefined,
    stateDir,
    stop,
  };
}

/**
 * The secrets in force: the caller's where set, else the stack's. Operator command keys
 * go together: a caller's private key brings its own key id and public keys (already in
 * every process's environment); otherwise the stack's pair signs, and its public half is
 * added to any public keys the caller trusts.
 */
function secretsIn(given: Record<string, string | undefined>, s: StackSecrets) {
  return {
    WEBHOOK_SECRET: given.WEBHOOK_SECRET || s.WEBHOOK_SECRET,
    UNSUBSCRIBE_SECRET: given.UNSUBSCRIBE_SECRET || s.UNSUBSCRIBE_SECRET,
    AGENT_JWT_SECRET: given.AGENT_JWT_SECRET || s.AGENT_JWT_SECRET,
    GATEWAY_OPERATORS: given.GATEWAY_OPERATORS || s.GATEWAY_OPERATORS,
    signing: (given.OPERATOR_COMMAND_PRIVATE_KEY
      ? {}
      : {
          OPERATOR_COMMAND_PRIVATE_KEY: s.OPERATOR_COMMAND_PRIVATE_KEY,
          OPERATOR_COMMAND_KEY_ID: s.OPERATOR_COMMAND_KEY_ID,
        }) as Record<string, string>,
    verifying: (given.OPERATOR_COMMAND_PRIVATE_KEY
      ? {}
      : {
          OPERATOR_COMMAND_PUBLIC_KEYS: withKey(given.OPERATOR_COMMAND_PUBLIC_KEYS, s),
        }) as Record<string, string>,
  };
}

/** OPERATOR_COMMAND_PUBLIC_KEYS with the stack's key added, in the form it was given (list or JSON). */
function withKey(trusted: string | undefined, s: StackSecrets): string {
  const text = trusted?.trim();
  if (!text) return s.OPERATOR_COMMAND_PUBLIC_KEYS;
  if (!text.startsWith("{")) return `${text},${s.OPERATOR_COMMAND_PUBLIC_KEYS}`;
  const colon = s.OPERATOR_COMMAND_PUBLIC_KEYS.indexOf(":");
  try {
    return JSON.stringify({
      ...JSON.parse(text),
      [s.OPERATOR_COMMAND_PUBLIC_KEYS.slice(0, colon)]: s.OPERATOR_COMMAND_PUBLIC_KEYS.slice(
        colon + 1,
      ),
    });
  } catch {
    // Left as given: the services' own parsing names what is wrong with it.
    return text;
  }
}
