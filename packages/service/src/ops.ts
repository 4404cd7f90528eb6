/**
 * The routes every service answers identically: `/healthz` (alive), `/readyz` (each
 * dependency `ok | down | not_configured` with a reason, one JSON shape everywhere) and
 * `/metrics` (the instance's registry), plus request logging through the service's logger.
 */
import type { FastifyInstance } from "fastify";
import type { ServiceMetrics } from "./metrics.ts";

export type CheckStatus = "ok" | "down" | "not_configured";
export type CheckResult = { status: CheckStatus; reason?: string };
export type Check = {
  name: string;
  /** A required dependency that is down makes the service not ready (503). */
  required: boolean;
  run: () => Promise<CheckResult>;
};

export type Readiness = {
  service: string;
  status: "ready" | "not_ready";
  checks: Record<string, CheckResult & { required: boolean }>;
};

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: Check): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check.run(),
      new Promise<CheckResult>((resolve) => {
        timer = setTimeout(
          () => resolve({ status: "down", reason: `no answer within ${CHECK_TIMEOUT_MS} ms` }),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    return { status: "down", reason: (error as Error).message.slice(0, 300) };
  } finally {
    clearTimeout(timer);
  }
}

/** Every check at once (each within CHECK_TIMEOUT_MS): what `/readyz` answers. */
export async function readiness(service: string, checks: Check[]): Promise<Readiness> {
  const results = await Promise.all(checks.map(runCheck));
  const out: Readiness["checks"] = {};
  let ready = true;
  checks.forEach((c, i) => {
    const r = results[i]!;
    out[c.name] = { ...r, required: c.required };
    if (c.required && r.status === "down") ready = false;
  });
  return { service, status: ready ? "ready" : "not_ready", checks: out };
}

export function registerOps(
  app: FastifyInstance,
  deps: {
    service: string;
    metrics: ServiceMetrics;
    checks: () => Check[];
    /** Refreshes gauges read at scrape time (e.g. queue depth from the database). */
    beforeScrape: () => Promise<void>;
  },
) {
  app.get("/healthz", async () => ({ status: "ok", service: deps.service }));
  app.get("/readyz", async (_req, reply) => {
    const r = await readiness(deps.service, deps.checks());
    return reply.code(r.status === "ready" ? 200 : 503).send(r);
  });
  app.get("/metrics", async (_req, reply) => {
    await deps.beforeScrape();
    reply.header("content-type", deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  // Fastify's own per-request lines cost more than a webhook at 10k/s; this logs errors
  // always and everything else at debug.
  app.addHook("onResponse", async (req, reply) => {
    const status = reply.statusCode;
    const line = {
      method: req.method,
      url: req.routeOptions.url ?? req.url,
      status,
      ms: Math.round(reply.elapsedTime),
    };
    if (status >= 500) req.log.warn(line, "request failed");
    else if (req.log.level === "debug" || req.log.level === "trace")
      req.log.debug(line, "request completed");
  });
}
