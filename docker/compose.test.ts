/**
 * docker/compose.yaml and the Dockerfiles it builds, checked without a Docker engine: every
 * deployable app has a service with a healthcheck, started after the migration job and a
 * healthy broker and database; the consumers can be scaled (no fixed host port); each
 * image is a `turbo prune` of its app, runs as a non-root user and starts a file that
 * exists, exactly as the app's `pnpm start`; and — the strongest check — each app's own
 * configuration parser accepts the environment its service gets, with the secrets
 * `node docker/gen-env.ts` makes, and lands on Kafka, PostgreSQL and 0.0.0.0.
 *
 * The apps' parsers are imported by path (`../apps/<app>/src/config.ts`): their own
 * dependencies (`@pw/config`, zod…) resolve from each app's node_modules, so nothing is
 * hard-coded about which variables they require.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { dispatchConfig } from "../apps/dispatch/src/config.ts";
import { experimentsConfig } from "../apps/experiments/src/config.ts";
import { verifyPassword } from "../apps/gateway/src/auth/password.ts";
import { gatewayConfig } from "../apps/gateway/src/config.ts";
import { ingestConfig } from "../apps/ingest/src/config.ts";
import { agentConfig } from "../apps/outreach-agent/src/config.ts";
import { scoringConfig } from "../apps/scoring/src/config.ts";
import { DatabaseConfig, parseConfig } from "../packages/config/src/index.ts";
import { telemetrySettings } from "../packages/telemetry/src/init.ts";
import { generateSecrets, renderEnvFile } from "./gen-env.ts";

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** In apps/ but not deployed: the one-process demo and the sample-event seeder. */
const NOT_DEPLOYED = ["embedded", "seed"];

type Needs = {
  /** The port ARCHITECTURE.md fixes (each app's default). */
  port: number;
  db: boolean;
  bus: boolean;
  /** Several instances share a consumer group: no fixed host port, no container name. */
  scalable: boolean;
};
/** What each deployable app needs from the stack (a new app in apps/ must be added here). */
const APPS: Record<string, Needs> = {
  ingest: { port: 4100, db: true, bus: true, scalable: false },
  scoring: { port: 4200, db: true, bus: true, scalable: true },
  experiments: { port: 4300, db: true, bus: true, scalable: true },
  dispatch: { port: 4400, db: true, bus: true, scalable: true },
  // HTTP in, channels out: no bus (`runService({bus: false})`).
  "outreach-agent": { port: 4500, db: true, bus: false, scalable: false },
  gateway: { port: 4000, db: true, bus: true, scalable: false },
  // Talks to the gateway only; depends on it being healthy instead.
  web: { port: 3000, db: false, bus: false, scalable: false },
};
const MIGRATE = "migrate";
const BROKER = "redpanda";
const DATABASE = "postgres";

type Service = {
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  image?: string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target?: number; published?: string | number })[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  container_name?: string;
  volumes?: (string | { source?: string; target?: string })[];
  restart?: string;
};
type Compose = { services: Record<string, Service> };

const composeText = readFileSync(join(HERE, "compose.yaml"), "utf8");
/** Compose merges `<<: *anchor` keys (YAML 1.1); so does the parser with `merge`. */
const loadCompose = (text: string) => parse(text, { merge: true }) as Compose;

// ── Compose's variable interpolation ────────────────────────────────────────────────────

const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g;

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `$$`. */
function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(VARIABLE, (match, name: string, colon: string, op: string, arg: string) => {
    if (match === "$$") return "$";
    const value = vars[name];
    const missing = value === undefined || (colon === ":" && value === "");
    if (op === "-") return missing ? arg : (value ?? "");
    if (op === "?" && missing) throw new Error(`required variable ${name} is missing: ${arg}`);
    return value ?? "";
  });
}

/**
 * Every variable the file references: `required` when compose refuses to start without it
 * (`:?`), `bare` when it has neither a default nor an error (unset, it is silently empty).
 */
function variablesOf(text: string): Map<string, { required: boolean; bare: boolean }> {
  const out = new Map<string, { required: boolean; bare: boolean }>();
  for (const m of text.matchAll(VARIABLE)) {
    if (!m[1]) continue;
    const seen = out.get(m[1]);
    out.set(m[1], {
      required: m[3] === "?" || (seen?.required ?? false),
      bare: m[3] === undefined || (seen?.bare ?? false),
    });
  }
  return out;
}

/** The environment a service's container gets, with `vars` as docker/.env. */
function environmentOf(service: Service, vars: Record<string, string | undefined>) {
  const env: Record<string, string | undefined> = {};
  const raw = service.environment ?? {};
  const entries = Array.isArray(raw)
    ? raw.map(
        (line) =>
          [
            line.split("=")[0]!,
            line.includes("=") ? line.slice(line.indexOf("=") + 1) : null,
          ] as const,
      )
    : Object.entries(raw);
  for (const [key, value] of entries)
    env[key] = value === null ? undefined : interpolate(String(value), vars);
  return env;
}

// ── Dockerfiles ─────────────────────────────────────────────────────────────────────────

type Instruction = { op: string; args: string };
/** Instructions with continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [op = "", ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

const toolchain = read("scripts/toolchain.sh");
const PINNED = {
  NODE_VERSION: /NODE_VERSION="\$\{PW_NODE_VERSION:-([\d.]+)\}"/.exec(toolchain)?.[1],
  PNPM_VERSION: /PNPM_VERSION="\$\{PW_PNPM_VERSION:-([\d.]+)\}"/.exec(toolchain)?.[1],
  TURBO_VERSION: /^\s+turbo: ([\d.]+)$/m.exec(read("pnpm-workspace.yaml"))?.[1],
};
const enginesPnpm = (JSON.parse(read("package.json")) as { engines: { pnpm: string } }).engines
  .pnpm;

/** What an image must be: a prune of `pkg`, non-root, starting `expectedCmd` in `workdir`. */
function dockerfileProblems(
  name: string,
  text: string,
  expected: { pkg: string; workdir: string; cmd: string[]; port?: number },
): string[] {
  const problems: string[] = [];
  const all = instructions(text);
  const args = new Map(
    all
      .filter((i) => i.op === "ARG" && i.args.includes("="))
      .map((i) => [i.args.split("=")[0]!, i.args.split("=")[1]!.replace(/^"|"$/g, "")]),
  );
  for (const [arg, version] of Object.entries(PINNED))
    if (args.get(arg) !== version) problems.push(`${name}: ARG ${arg} is not ${version}`);
  const prune = all.find((i) => i.op === "RUN" && /\bturbo prune\b/.test(i.args));
  if (!prune) problems.push(`${name}: no RUN … turbo prune`);
  else if (!new RegExp(`turbo prune ${expected.pkg} --docker\\b`).test(prune.args))
    problems.push(`${name}: turbo prune is not of ${expected.pkg} --docker`);
  if (!all.some((i) => i.op === "RUN" && /pnpm install --frozen-lockfile/.test(i.args)))
    problems.push(`${name}: dependencies are not installed from the lockfile (--frozen-lockfile)`);

  const lastFrom = all.map((i) => i.op).lastIndexOf("FROM");
  const final = all.slice(lastFrom);
  if (!/^node:\$\{NODE_VERSION\}-slim\b/.test(final[0]?.args ?? ""))
    problems.push(`${name}: the final stage is not node:\${NODE_VERSION}-slim`);
  const user = final.filter((i) => i.op === "USER").at(-1)?.args;
  if (!user) problems.push(`${name}: the final stage sets no USER (it would run as root)`);
  else if (/^(root|0)(:|$)/.test(user)) problems.push(`${name}: USER ${user} is root`);
  const workdir = final.filter((i) => i.op === "WORKDIR").at(-1)?.args;
  if (workdir !== expected.workdir)
    problems.push(`${name}: final WORKDIR ${workdir} is not ${expected.workdir}`);
  const cmdText = final.filter((i) => i.op === "CMD").at(-1)?.args;
  let cmd: string[] | undefined;
  try {
    cmd = cmdText ? (JSON.parse(cmdText) as string[]) : undefined;
  } catch {
    problems.push(`${name}: CMD is not in exec form (JSON array): ${cmdText}`);
  }
  if (!cmd) problems.push(`${name}: no CMD`);
  else if (JSON.stringify(cmd) !== JSON.stringify(expected.cmd))
    problems.push(`${name}: CMD ${JSON.stringify(cmd)} is not ${JSON.stringify(expected.cmd)}`);
  else {
    // The file the process starts exists where the image puts the workspace (/app = repo root).
    const entry = cmd.find(
      (a, i) => i > 0 && !a.startsWith("-") && /[./]/.test(a) && !a.startsWith("@"),
    );
    const inRepo = join(ROOT, (workdir ?? "").replace(/^\/app\/?/, ""), entry ?? "");
    if (!entry || !existsSync(inRepo))
      problems.push(`${name}: CMD starts ${inRepo}, which does not exist`);
  }
  if (expected.port !== undefined) {
    const env = final
      .filter((i) => i.op === "ENV")
      .map((i) => i.args)
      .join(" ");
    if (!new RegExp(`\\bPORT=${expected.port}\\b`).test(env))
      problems.push(`${name}: ENV PORT is not ${expected.port}`);
    if (!final.some((i) => i.op === "EXPOSE" && i.args === String(expected.port)))
      problems.push(`${name}: EXPOSE ${expected.port} missing`);
  }
  return problems;
}

/** The app's package name and how `pnpm start` runs it. */
function packageOf(dir: string): { name: string; scripts: Record<string, string> } {
  return JSON.parse(read(`${dir}/package.json`));
}

function expectedImage(app: string) {
  if (app === "web")
    return {
      pkg: "@pw/web",
      workdir: "/app/apps/web",
      cmd: ["node", "node_modules/next/dist/bin/next", "start", "--hostname", "0.0.0.0"],
      port: APPS.web!.port,
    };
  const pkg = packageOf(`apps/${app}`);
  return {
    pkg: pkg.name,
    workdir: `/app/apps/${app}`,
    // `pnpm start` word for word, without pnpm.
    cmd: pkg.scripts.start!.split(/\s+/),
    port: APPS[app]!.port,
  };
}

// ── The compose file's rules ────────────────────────────────────────────────────────────

const hostPortOf = (p: NonNullable<Service["ports"]>[number]) =>
  typeof p === "object"
    ? p.published !== undefined
    : String(p).split(":").length > 1 /* host:container or ip:host:container */;

function dependsOn(service: Service, on: string, condition: string): boolean {
  const deps = service.depends_on;
  if (!deps || Array.isArray(deps)) return false;
  return deps[on]?.condition === condition;
}

function composeProblems(compose: Compose, dockerfiles: (path: string) => string | undefined) {
  const problems: string[] = [];
  const services = compose.services ?? {};
  for (const infra of [BROKER, DATABASE])
    if (!services[infra]?.healthcheck?.test) problems.push(`${infra}: no healthcheck`);

  const migrate = services[MIGRATE];
  if (!migrate) problems.push(`no ${MIGRATE} service (the one-shot migration job)`);
  else {
    if (!dependsOn(migrate, DATABASE, "service_healthy"))
      problems.push(`${MIGRATE}: does not wait for a healthy ${DATABASE}`);
    if (migrate.restart !== "no") problems.push(`${MIGRATE}: a one-shot job must not restart`);
  }

  const built: [string, Service][] = Object.entries(services).filter(([, s]) => s.build);
  for (const [name, service] of built) {
    const context = resolve(HERE, service.build?.context ?? ".");
    if (context !== ROOT) problems.push(`${name}: build context ${context} is not the repo root`);
    const file = service.build?.dockerfile;
    if (!file || dockerfiles(join(context, file)) === undefined)
      problems.push(`${name}: Dockerfile ${file} does not exist`);
  }

  for (const [app, needs] of Object.entries(APPS)) {
    const s = services[app];
    if (!s) {
      problems.push(`${app}: no service for apps/${app}`);
      continue;
    }
    if (!s.build?.dockerfile) problems.push(`${app}: not built from a Dockerfile`);
    const test = s.healthcheck?.test;
    const testText = Array.isArray(test) ? test.join(" ") : (test ?? "");
    if (!test || s.healthcheck?.disable) problems.push(`${app}: no healthcheck`);
    else if (!/fetch\(/.test(testText) || !/process\.env\.PORT/.test(testText))
      problems.push(`${app}: the healthcheck does not fetch its own PORT with node`);
    else if (app !== "web" && !/\/(readyz|healthz)\b/.test(testText))
      problems.push(`${app}: the healthcheck asks neither /readyz nor /healthz`);
    const env = s.environment && !Array.isArray(s.environment) ? s.environment : {};
    if (String(env.PORT) !== String(needs.port)) problems.push(`${app}: PORT is not ${needs.port}`);
    if (needs.db || needs.bus) {
      if (env.HOST !== "0.0.0.0") problems.push(`${app}: HOST is not 0.0.0.0 (default: loopback)`);
      if (!dependsOn(s, MIGRATE, "service_completed_successfully"))
        problems.push(`${app}: does not wait for ${MIGRATE} to complete successfully`);
      if (!dependsOn(s, DATABASE, "service_healthy"))
        problems.push(`${app}: does not wait for a healthy ${DATABASE}`);
    }
    if (needs.bus && !dependsOn(s, BROKER, "service_healthy"))
      problems.push(`${app}: does not wait for a healthy ${BROKER}`);
    if (app === "web" && !dependsOn(s, "gateway", "service_healthy"))
      problems.push("web: does not wait for a healthy gateway");
    if (needs.scalable) {
      if ((s.ports ?? []).some(hostPortOf))
        problems.push(`${app}: publishes a fixed host port, so --scale ${app}=N cannot start N`);
      if (s.container_name) problems.push(`${app}: container_name prevents --scale`);
    }
  }
  return problems;
}

const fileOrUndefined = (path: string) =>
  existsSync(path) ? readFileSync(path, "utf8") : undefined;

// ── Tests ───────────────────────────────────────────────────────────────────────────────

describe("docker/compose.yaml", () => {
  const compose = loadCompose(composeText);

  it("has a service for every deployable app in apps/", () => {
    const deployable = readdirSync(join(ROOT, "apps"), { withFileTypes: true })
      .filter((d) => d.isDirectory() && !NOT_DEPLOYED.includes(d.name))
      .filter((d) => existsSync(join(ROOT, "apps", d.name, "package.json")))
      .map((d) => d.name)
      .sort();
    expect(Object.keys(APPS).sort()).toEqual(deployable);
    for (const app of deployable) expect(Object.keys(compose.services)).toContain(app);
  });

  it("keeps every rule: healthchecks, start order, scalable consumers, Dockerfiles", () => {
    expect(composeProblems(compose, fileOrUndefined)).toEqual([]);
  });

  it("fails when the file breaks", () => {
    const broken = (edit: (c: Compose) => void) => {
      const c = loadCompose(composeText);
      edit(c);
      return composeProblems(c, fileOrUndefined).join("\n");
    };
    expect(broken((c) => delete c.services.scoring!.healthcheck)).toMatch(
      /scoring: no healthcheck/,
    );
    expect(
      broken((c) => {
        c.services.dispatch!.ports = ["4400:4400"];
      }),
    ).toMatch(/dispatch: publishes a fixed host port/);
    expect(
      broken((c) => delete (c.services.gateway!.depends_on as Record<string, unknown>).migrate),
    ).toMatch(/gateway: does not wait for migrate/);
    expect(
      broken((c) => delete (c.services.ingest!.depends_on as Record<string, unknown>).redpanda),
    ).toMatch(/ingest: does not wait for a healthy redpanda/);
    expect(broken((c) => delete c.services.web)).toMatch(/web: no service/);
    expect(
      broken((c) => {
        c.services.experiments!.build!.dockerfile = "docker/nope.Dockerfile";
      }),
    ).toMatch(/experiments: Dockerfile docker\/nope.Dockerfile does not exist/);
    expect(
      broken((c) => {
        (c.services.scoring!.environment as Record<string, string>).HOST = "127.0.0.1";
      }),
    ).toMatch(/scoring: HOST is not 0.0.0.0/);
  });

  it("uses only braced variables, each documented in docker/.env.example; required ones empty there", () => {
    // A bare $VAR is not interpolated here, so none may be used ($$ is a literal $).
    expect(composeText.replaceAll("$$", "")).not.toMatch(/\$[A-Za-z_]/);
    const example = readFileSync(join(HERE, ".env.example"), "utf8");
    const documented = new Map<string, { value: string; commented: boolean }>();
    for (const m of example.matchAll(/^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/gm))
      documented.set(m[2]!, { value: m[3]!, commented: Boolean(m[1]) });
    for (const [name, { required, bare }] of variablesOf(composeText)) {
      expect(bare, `\${${name}} has neither a default nor :? (unset, it would be empty)`).toBe(
        false,
      );
      expect(documented.has(name), `${name} is not in docker/.env.example`).toBe(true);
      const entry = documented.get(name)!;
      if (required) {
        expect(entry.commented, `${name} is required: uncommented in .env.example`).toBe(false);
        // Never a real value in a committed file: empty, with how to make it above.
        expect(entry.value, `${name} has a value in .env.example`).toBe("");
      }
    }
  });
});

describe("the Dockerfiles", () => {
  const compose = loadCompose(composeText);
  const dockerfileOf = (service: string) => {
    const b = compose.services[service]!.build!;
    return { path: join(resolve(HERE, b.context!), b.dockerfile!), rel: b.dockerfile! };
  };

  it("pin the toolchain's Node and pnpm and the catalog's turbo", () => {
    expect(PINNED.NODE_VERSION).toMatch(/^24\./);
    expect(enginesPnpm).toBe(`>=${PINNED.PNPM_VERSION}`);
    expect(PINNED.TURBO_VERSION).toBeDefined();
  });

  for (const app of Object.keys(APPS))
    it(`${app}: turbo prune of its app, non-root, starts what \`pnpm start\` starts`, () => {
      const { path, rel } = dockerfileOf(app);
      expect(dockerfileProblems(rel, readFileSync(path, "utf8"), expectedImage(app))).toEqual([]);
      // BuildKit's per-Dockerfile ignore file: without it the context carries node_modules.
      const ignore = fileOrUndefined(`${path}.dockerignore`);
      expect(ignore, `${rel}.dockerignore`).toMatch(/^\*\*\/node_modules$/m);
    });

  it("migrate: turbo prune of @pw/db, runs `pnpm db:migrate`'s command", () => {
    const { path, rel } = dockerfileOf(MIGRATE);
    const db = packageOf("packages/db");
    const expected = {
      pkg: db.name,
      workdir: "/app/packages/db",
      cmd: db.scripts.migrate!.split(/\s+/),
    };
    expect(dockerfileProblems(rel, readFileSync(path, "utf8"), expected)).toEqual([]);
    expect(readFileSync(join(ROOT, "packages/db/drizzle/meta/_journal.json"), "utf8")).toMatch(
      /entries/,
    );
  });

  it("web: `next build` when the image is built, `next start` when it runs", () => {
    const { path } = dockerfileOf("web");
    const text = readFileSync(path, "utf8");
    expect(packageOf("apps/web").scripts.build).toBe("next build");
    expect(text).toMatch(/^RUN pnpm --filter @pw\/web build\b/m);
    // turbo prune copies package directories only: a root file the build reads is copied.
    const { extends: base } = JSON.parse(read("apps/web/tsconfig.json")) as { extends?: string };
    if (base) {
      const rel = join("apps/web", base).replace(/^(\.\.\/)+/, "");
      expect(existsSync(join(ROOT, rel))).toBe(true);
      expect(text).toContain(`COPY --from=prune /src/${rel} ./`);
    }
  });

  it("fail when a Dockerfile breaks", () => {
    const { path, rel } = dockerfileOf("scoring");
    const text = readFileSync(path, "utf8");
    const expected = expectedImage("scoring");
    const check = (t: string) => dockerfileProblems(rel, t, expected).join("\n");
    expect(check(text.replace(/^USER node$/m, "USER root"))).toMatch(/USER root is root/);
    expect(check(text.replace(/^USER node$/m, ""))).toMatch(/sets no USER/);
    expect(check(text.replace(/turbo prune @pw\/scoring/, "turbo prune @pw/ingest"))).toMatch(
      /not of @pw\/scoring/,
    );
    expect(check(text.replace("src/main.ts", "src/missing.ts"))).toMatch(/CMD/);
    expect(check(text.replace(/PNPM_VERSION=[\d.]+/, "PNPM_VERSION=9.0.0"))).toMatch(
      /ARG PNPM_VERSION/,
    );
  });
});

describe("each app's configuration, parsed by the app itself", async () => {
  const compose = loadCompose(composeText);
  const { secrets, password, username } = await generateSecrets();
  const dotenv: Record<string, string> = { ...secrets };
  const envOf = (app: string) => environmentOf(compose.services[app]!, dotenv);

  const parsers = {
    ingest: ingestConfig,
    scoring: scoringConfig,
    experiments: experimentsConfig,
    dispatch: dispatchConfig,
    gateway: gatewayConfig,
    "outreach-agent": agentConfig,
  } as const;

  it("covers every app with a database or a bus", () => {
    const withConfig = Object.entries(APPS)
      .filter(([, n]) => n.db || n.bus)
      .map(([a]) => a);
    expect(Object.keys(parsers).sort()).toEqual(withConfig.sort());
  });

  for (const [app, parser] of Object.entries(parsers))
    it(`${app}: accepted as its service's environment, on Kafka, PostgreSQL and 0.0.0.0`, () => {
      const needs = APPS[app]!;
      const config = parser(envOf(app)) as {
        host: string;
        port: number;
        bus: { driver: string; brokers?: string[] };
        database: { driver: string; url?: string };
      };
      expect(config.host).toBe("0.0.0.0");
      expect(config.port).toBe(needs.port);
      expect(config.database.driver).toBe("pg");
      expect(new URL(config.database.url!).hostname).toBe(DATABASE);
      if (needs.bus) {
        expect(config.bus.driver).toBe("kafka");
        expect(config.bus.brokers?.map((b) => b.split(":")[0])).toEqual([BROKER]);
      }
    });

  it("a required variable left out stops the app, naming it (what the check above relies on)", () => {
    const without = (app: keyof typeof parsers, variable: string) => {
      const env = envOf(app);
      delete env[variable];
      return () => parsers[app](env);
    };
    expect(without("ingest", "WEBHOOK_SECRET")).toThrow(/WEBHOOK_SECRET/);
    expect(without("dispatch", "UNSUBSCRIBE_SECRET")).toThrow(/UNSUBSCRIBE_SECRET/);
    expect(without("dispatch", "SENDER_POSTAL_ADDRESS")).toThrow(/SENDER_POSTAL_ADDRESS/);
    expect(without("dispatch", "TRUEFOUNDRY_AGENT_JWT_SECRET")).toThrow(/TRUEFOUNDRY_AGENT_TOKEN/);
    expect(without("gateway", "OPERATOR_COMMAND_KEY_ID")).toThrow(/OPERATOR_COMMAND_KEY_ID/);
  });

  it("gen-env writes each secret as a single-quoted literal (Compose leaves $ alone in those)", () => {
    const parsed = Object.fromEntries(
      [...renderEnvFile(secrets).matchAll(/^([A-Z][A-Z0-9_]*)='([^'\n]*)'$/gm)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    expect(parsed).toEqual(secrets);
  });

  it("compose refuses to start without the secrets docker/.env provides", () => {
    const { WEBHOOK_SECRET: _, ...rest } = dotenv;
    expect(() => environmentOf(compose.services.ingest!, rest)).toThrow(/WEBHOOK_SECRET/);
    expect(() => environmentOf(compose.services.migrate!, {})).toThrow(/POSTGRES_PASSWORD/);
  });

  it("dispatch is pointed at the agent container over TLS, with the agent's own secret", () => {
    const dispatch = dispatchConfig(envOf("dispatch"));
    const agent = agentConfig(envOf("outreach-agent"));
    expect(dispatch.localAgent).toBeUndefined();
    expect(dispatch.agent?.jwtSecret).toBe(agent.auth.secret);
    expect(dispatch.agent?.audience).toBe(agent.auth.audience);
    expect(agent.auth.mode).toBe("required");
    const url = new URL(dispatch.agent!.url);
    expect(url.protocol).toBe("https:");
    // The TLS front's site is that host and port, and it proxies to the agent's PORT.
    const proxy = compose.services[url.hostname];
    expect(proxy, `service ${url.hostname}`).toBeDefined();
    const caddyfile = readFileSync(join(HERE, "agent-tls/Caddyfile"), "utf8");
    expect(caddyfile).toContain(`https://${url.host} {`);
    expect(caddyfile).toMatch(
      new RegExp(`reverse_proxy outreach-agent:${APPS["outreach-agent"]!.port}\\b`),
    );
    // Dispatch trusts the CA through a file in the volume the proxy writes its root into.
    const caFile = envOf("dispatch").NODE_EXTRA_CA_CERTS!;
    const mount = (compose.services.dispatch!.volumes ?? [])
      .map(String)
      .map((v) => v.split(":"))
      .find(([, target]) => caFile.startsWith(`${target}/`));
    expect(mount, `a volume mounted above ${caFile}`).toBeDefined();
    expect((proxy!.volumes ?? []).map(String)).toContain(`${mount![0]}:/trust`);
    expect(caFile.slice(mount![1]!.length)).toBe("/root.crt");
  });

  it("ingest verifies the unsubscribe links dispatch signs; consumers verify the gateway's commands", () => {
    const ingest = ingestConfig(envOf("ingest"));
    const dispatch = dispatchConfig(envOf("dispatch"));
    expect(ingest.unsubscribeSecrets).toContain(dispatch.compliance.secret);
    const gateway = gatewayConfig(envOf("gateway"));
    const keyId = gateway.signing!.keyId;
    for (const consumer of [
      scoringConfig(envOf("scoring")),
      experimentsConfig(envOf("experiments")),
      dispatch,
    ])
      expect([...consumer.operatorCommands.keys.keys()]).toContain(keyId);
  });

  it("the generated admin login signs in (the hash is the gateway's format)", async () => {
    const [operator] = gatewayConfig(envOf("gateway")).auth.operators;
    expect(operator?.username).toBe(username);
    expect(operator?.role).toBe("admin");
    expect(await verifyPassword(password, operator!.passwordHash)).toBe(true);
  });

  it("migrate: the database URL points at the postgres service", () => {
    const { database } = parseConfig(
      DatabaseConfig,
      environmentOf(compose.services.migrate!, dotenv),
    );
    expect(database.driver).toBe("pg");
    expect(database.driver === "pg" && new URL(database.url).hostname).toBe(DATABASE);
  });

  it("web: proxies to the gateway service's port", () => {
    const url = new URL(envOf("web").GATEWAY_URL!);
    expect(url.hostname).toBe("gateway");
    expect(Number(url.port)).toBe(APPS.gateway!.port);
  });

  it("Sentry: off without a DSN; with one, the default 1% of traces", () => {
    for (const app of Object.keys(parsers)) {
      expect(telemetrySettings(envOf(app))).toBeUndefined();
      const on = telemetrySettings({
        ...envOf(app),
        ...{ SENTRY_DSN: "https://k@o1.ingest.sentry.io/1" },
      });
      expect(on?.tracesSampleRate).toBe(0.01);
    }
  });
});
