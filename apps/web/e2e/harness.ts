/**
 * The dashboard on the one-process stack: every service (gateway included) started by
 * `startEmbedded` on PGlite and the in-process bus, and the production build of this app
 * served by `next start` in a child process, pointed at that gateway. The browser suite
 * and `pnpm bench:live` use it; `ensureBuilt()` builds the app once when there is no build.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Embedded, startEmbedded } from "@pw/embedded";
import { hashPassword } from "@pw/gateway/password";
import type { Logger } from "@pw/logger";
import { freePort, waitFor } from "@pw/testkit";

export const WEB_DIR = join(import.meta.dirname, "..");
const NEXT_BIN = createRequire(join(WEB_DIR, "package.json")).resolve("next/dist/bin/next");

/** Builds the production app unless a build is there already (CI builds it first). */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(join(WEB_DIR, ".next", "BUILD_ID"))) return;
  await promisify(execFile)(process.execPath, [NEXT_BIN, "build"], {
    cwd: WEB_DIR,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

export type Account = { username: string; password: string; role: "viewer" | "operator" | "admin" };

export type Dashboard = {
  stack: Embedded;
  /** The dashboard's origin, e.g. http://127.0.0.1:41234 */
  url: string;
  gatewayUrl: string;
  /** What `next start` printed (for a failing test's message). */
  output: string[];
  stop(): Promise<void>;
};

export async function startDashboard(o: {
  accounts: Account[];
  env?: Record<string, string | undefined>;
  logger?: Logger;
}): Promise<Dashboard> {
  const operators = await Promise.all(
    o.accounts.map(async (a) => `${a.username}:${a.role}:${await hashPassword(a.password)}`),
  );
  const stack = await startEmbedded({
    env: {
      PORT: "0",
      // Plain http on loopback: a Secure cookie would never come back.
      GATEWAY_SECURE_COOKIES: "false",
      ...o.env,
      GATEWAY_OPERATORS: operators.join(","),
    },
    listen: true,
    ...(o.logger ? { logger: o.logger } : {}),
  });
  const gatewayUrl = stack.gateway.url;
  if (!gatewayUrl) {
    await stack.stop();
    throw new Error("the gateway did not listen");
  }
  let web: Web;
  try {
    web = await startWeb({ gatewayUrl, environment: o.env?.PW_ENVIRONMENT ?? "demo" });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const stop = async () => {
    await web.stop();
    await stack.stop();
  };
  return { stack, url: web.url, gatewayUrl, output: web.output, stop };
}

export type Web = { url: string; output: string[]; stop(): Promise<void> };

/** `next start` (the production build) on a free port, its /api proxied to `gatewayUrl`. */
export async function startWeb(o: {
  gatewayUrl: string;
  environment?: string;
  /** More of the app's environment (SENTRY_DSN…). */
  env?: Record<string, string>;
}): Promise<Web> {
  const port = await freePort();
  const output: string[] = [];
  const web: ChildProcess = spawn(
    process.execPath,
    [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"],
    {
      cwd: WEB_DIR,
      env: {
        ...process.env,
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        GATEWAY_URL: o.gatewayUrl,
        PW_ENVIRONMENT: o.environment ?? "demo",
        ...o.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  web.stdout?.on("data", (d) => output.push(String(d)));
  web.stderr?.on("data", (d) => output.push(String(d)));
  const exited = new Promise<void>((resolve) => web.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (web.exitCode === null && web.signalCode === null) {
      web.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (web.exitCode === null && web.signalCode === null) web.kill("SIGKILL");
    }
  };
  try {
    await waitFor(
      async () => {
        if (web.exitCode !== null) throw new Error(`next start exited: ${output.join("")}`);
        const r = await fetch(`${url}/login`).catch(() => undefined);
        return r?.ok;
      },
      { timeoutMs: 60_000, message: "the dashboard to serve /login" },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, output, stop };
}
