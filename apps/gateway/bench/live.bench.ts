// pnpm bench:live — how fast a lead event reaches the dashboard's live stream: event
// published on the bus → the gateway projects it (PGlite or PostgreSQL) → SSE frame
// received by every client, for 1 and for 500 concurrent clients (undici, in worker
// threads, all on one signed-in session); the gateway's memory before and after and per
// connection. Baseline in the same run: a bare SSE fan-out of the same bus messages in a
// process of its own (no projection, no database), so the ratio is what the gateway adds.
// The gateway runs with its production defaults through `startGateway`, on PGlite + the
// in-process bus, or PostgreSQL / Kafka when DATABASE_URL / KAFKA_BROKERS are set.
// Target (issue 13): p95 ≤ 150 ms to an SSE client with 500 clients.
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { request } from "undici";

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 500);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const WARMUP = 20;
const WORKERS = Math.max(1, Math.min(4, os.cpus().length));
const TARGET_P95_MS = 150;

type WorkerInput = { url: string; cookie?: string; clients: number; first: number; last: number };
type WorkerReport = { latencies: number[][] };

// ---------------------------------------------------------------- SSE clients (worker)

/**
 * `clients` SSE connections; each frame of a bench event is timed on arrival. Reports,
 * per client, the latency of every event in [first, last] (NaN: never received).
 */
async function clientWorker(input: WorkerInput) {
  const now = () => performance.timeOrigin + performance.now();
  const span = input.last - input.first + 1;
  const received = Array.from({ length: input.clients }, () =>
    new Float64Array(span).fill(Number.NaN),
  );
  const bodies: { destroy(): void }[] = [];
  const MARK = /"objectId":"bench:(\d+):([\d.]+)"/g;
  await Promise.all(
    received.map(async (mine) => {
      const res = await request(`${input.url}/api/stream?topics=lead.events.v1`, {
        headers: { accept: "text/event-stream", ...(input.cookie ? { cookie: input.cookie } : {}) },
        bodyTimeout: 0,
        headersTimeout: 60_000,
      });
      if (res.statusCode !== 200) throw new Error(`SSE answered ${res.statusCode}`);
      bodies.push(res.body);
      let buffer = "";
      res.body.setEncoding("utf8");
      res.body.on("data", (chunk: string) => {
        const t = now();
        buffer += chunk;
        const cut = buffer.lastIndexOf("\n\n");
        if (cut < 0) return;
        const complete = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const m of complete.matchAll(MARK)) {
          const seq = Number(m[1]);
          if (seq >= input.first && seq <= input.last) mine[seq - input.first] = t - Number(m[2]);
        }
      });
      res.body.on("error", () => {});
    }),
  );
  parentPort!.postMessage({ ready: true });
  parentPort!.on("message", (m: { cmd: string; id: number }) => {
    if (m.cmd === "progress") {
      let got = 0;
      for (const r of received) for (const x of r) if (!Number.isNaN(x)) got++;
      parentPort!.postMessage({ id: m.id, got });
    }
    if (m.cmd === "collect") {
      for (const b of bodies) b.destroy();
      const report: WorkerReport = { latencies: received.map((r) => [...r]) };
      parentPort!.postMessage({ id: m.id, ...report });
    }
  });
}

// ---------------------------------------------------------------- orchestration

const progress = (s: string) => process.stderr.write(`  … ${s}\n`);

type Server = {
  url: string;
  call<T>(m: object, key: string): Promise<T>;
  stop(): Promise<void>;
};

async function startServer(
  kind: "gateway" | "baseline",
  env: Record<string, string>,
): Promise<Server> {
  const child: ChildProcess = fork(join(import.meta.dirname, "live-server.ts"), [], {
    env: { ...process.env, ...env, BENCH_SERVER: kind },
    execArgv: ["--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting: { key: string; resolve: (v: unknown) => void }[] = [];
  child.on("message", (m: Record<string, unknown>) => {
    const i = waiting.findIndex((w) => w.key in m);
    if (i < 0) return;
    const w = waiting.splice(i, 1)[0]!;
    w.resolve(m[w.key]);
  });
  const next = <T>(key: string) =>
    new Promise<T>((resolve) => waiting.push({ key, resolve: (v) => resolve(v as T) }));
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`${kind} server exited (${code})`))),
  );
  const url = await Promise.race([next<string>("url"), exited]);
  return {
    url,
    call: <T>(m: object, key: string) => {
      const answer = next<T>(key);
      child.send(m);
      return Promise.race([answer, exited]);
    },
    async stop() {
      child.send({ cmd: "stop" });
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

/** Opens `n` SSE clients spread over worker threads; resolves once every one is connected. */
async function openClients(url: string, n: number, first: number, last: number, cookie?: string) {
  const per = Math.ceil(n / WORKERS);
  const workers: Worker[] = [];
  for (let left = n; left > 0; left -= per) {
    const input: WorkerInput = {
      url,
      clients: Math.min(per, left),
      first,
      last,
      ...(cookie ? { cookie } : {}),
    };
    workers.push(new Worker(new URL(import.meta.url), { workerData: input }));
  }
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once("message", () => resolve());
          w.once("error", reject);
        }),
    ),
  );
  // Requests and answers matched by id: the progress ticker and the waiting loop both ask.
  let ids = 0;
  const pending = new Map<number, (m: unknown) => void>();
  for (const w of workers)
    w.on("message", (m: { id?: number }) => {
      if (m.id === undefined) return;
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    });
  const ask = <T>(w: Worker, cmd: string) =>
    new Promise<T>((resolve) => {
      const id = ++ids;
      pending.set(id, (m) => resolve(m as T));
      w.postMessage({ cmd, id });
    });
  return {
    async received(): Promise<number> {
      let got = 0;
      for (const w of workers) got += (await ask<{ got: number }>(w, "progress")).got;
      return got;
    },
    async collect(): Promise<number[][]> {
      const out: number[][] = [];
      for (const w of workers) out.push(...(await ask<WorkerReport>(w, "collect")).latencies);
      await Promise.all(workers.map((w) => w.terminate()));
      return out;
    },
  };
}

type Stats = {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  missing: number;
  samples: number;
};

function stats(values: number[], missing = 0): Stats {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const q = (p: number) => v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)] ?? Number.NaN;
  return {
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    max: v.at(-1) ?? Number.NaN,
    missing,
    samples: v.length,
  };
}

type Measured = { perClient: Stats; everyClient: Stats; clients: number };

/** Publishes warm-up + measured events at RATE/s; latencies per client, and to the last client. */
async function measure(
  server: Server,
  clients: number,
  from: number,
  cookie?: string,
): Promise<Measured> {
  const first = from + WARMUP;
  const last = first + EVENTS - 1;
  progress(`opening ${clients} SSE client(s)`);
  const open = await openClients(server.url, clients, first, last, cookie);
  progress(`${clients} connected; publishing ${WARMUP} warm-up + ${EVENTS} events at ${RATE}/s`);
  const published = server.call(
    { cmd: "publish", events: WARMUP + EVENTS, ratePerSec: RATE, from },
    "published",
  );
  const ticker = setInterval(async () => {
    progress(
      `received ${(await open.received()).toLocaleString("en-US")} / ${(clients * EVENTS).toLocaleString("en-US")} frames`,
    );
  }, 2_000);
  await published;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await open.received()) < clients * EVENTS)
    await new Promise((r) => setTimeout(r, 200));
  clearInterval(ticker);
  const latencies = await open.collect();
  const all = latencies.flat();
  const missing = all.filter((x) => Number.isNaN(x)).length;
  // Per event: when the last of the clients had it (missing anywhere: not counted).
  const everyClient: number[] = [];
  for (let e = 0; e < EVENTS; e++) {
    let worst = 0;
    for (const c of latencies) worst = Math.max(worst, c[e] ?? Number.NaN);
    everyClient.push(worst);
  }
  return {
    clients,
    perClient: stats(all, missing),
    everyClient: stats(everyClient, everyClient.filter((x) => Number.isNaN(x)).length),
  };
}

/**
 * Event published on the bus → the lead's row rendered by the dashboard (the production
 * build, `next start`, proxying to this gateway) in one signed-in Chromium tab on the
 * lead queue: a MutationObserver in the page stamps the first time each "Bench Lead <n>"
 * appears (same machine clock as the publisher). One event at a time, a second apart, so
 * the view's refetch throttle is not what is measured. Skipped (undefined) without Chromium
 * (CHROMIUM_PATH, default /usr/bin/chromium) or without a build of apps/web.
 */
export async function measureVisibleInBrowser(ctx: {
  server: Server;
  gatewayUrl: string;
  cookie: string;
  from: number;
}): Promise<Stats | undefined> {
  const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  const webDir = new URL("../../web/", import.meta.url).pathname;
  if (!existsSync(chromiumPath) || !existsSync(`${webDir}.next/BUILD_ID`)) {
    progress("browser: skipped (no Chromium or no build of apps/web: pnpm --filter @pw/web build)");
    return undefined;
  }
  const { startWeb } = await import("../../web/e2e/harness.ts");
  const { chromium } = await import("playwright-core");
  const web = await startWeb({ gatewayUrl: ctx.gatewayUrl });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const [name, value] = ctx.cookie.split("=") as [string, string];
    await context.addCookies([{ name, value, url: web.url }]);
    const page = await context.newPage();
    // Page code as text: this package is not compiled with the DOM's types.
    await page.addInitScript({
      content: `
        window.__seen = {};
        const scan = () => {
          const text = document.body ? document.body.innerText : "";
          for (const m of text.matchAll(/Bench Lead (\\d+)/g)) window.__seen[m[1]] ??= Date.now();
        };
        new MutationObserver(scan).observe(document, { childList: true, subtree: true, characterData: true });
      `,
    });
    await page.goto(`${web.url}/leads`);
    await page.getByText("Stream: live").waitFor({ timeout: 30_000 });
    const samples = Number(process.env.BENCH_BROWSER_EVENTS ?? 30);
    const latencies: number[] = [];
    let missing = 0;
    for (let i = 0; i < samples; i++) {
      const seq = ctx.from + i;
      const sent = Date.now();
      await ctx.server.call({ cmd: "publish", events: 1, ratePerSec: 1, from: seq }, "published");
      const seenAt = await page
        .waitForFunction(`window.__seen[${JSON.stringify(String(seq))}]`, undefined, {
          timeout: 10_000,
        })
        .then((h) => h.jsonValue() as Promise<number>)
        .catch(() => undefined);
      if (seenAt === undefined) missing++;
      else latencies.push(seenAt - sent);
      if ((i + 1) % 10 === 0) progress(`browser: ${i + 1} / ${samples} events on screen`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    return stats(latencies, missing);
  } finally {
    await browser.close();
    await web.stop();
  }
}

async function signIn(url: string, username: string, password: string): Promise<string> {
  const res = await request(`${url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (res.statusCode !== 200)
    throw new Error(`login answered ${res.statusCode}: ${await res.body.text()}`);
  await res.body.dump();
  const cookie = [res.headers["set-cookie"]].flat()[0];
  if (!cookie) throw new Error("login set no cookie");
  return cookie.split(";")[0]!;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const ms = (x: number) => (Number.isNaN(x) ? "—" : `${x.toFixed(1)} ms`);
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}×` : "—");

async function main() {
  const { hashPassword } = await import("../src/auth/password.ts");
  const where = `${process.env.DATABASE_URL ? "PostgreSQL" : "PGlite (in memory)"} + ${process.env.KAFKA_BROKERS ? "Kafka" : "the in-process bus"}`;
  progress(`bench:live on ${where}: ${EVENTS} events at ${RATE}/s to 1 and ${CLIENTS} SSE clients`);

  progress("baseline: bare SSE fan-out");
  const base = await startServer("baseline", {});
  const baseOne = await measure(base, 1, 0);
  const baseMany = await measure(base, CLIENTS, 100_000);
  await base.stop();

  progress("gateway: startGateway with production defaults");
  const password = randomBytes(18).toString("base64url");
  const gw = await startServer("gateway", {
    BENCH_OPERATORS: `bench:viewer:${await hashPassword(password)}`,
  });
  const cookie = await signIn(gw.url, "bench", password);
  const memory = () => gw.call<NodeJS.MemoryUsage>({ cmd: "rss" }, "rss");
  const atStart = await memory();
  const one = await measure(gw, 1, 200_000, cookie);
  const browser = await measureVisibleInBrowser({
    server: gw,
    gatewayUrl: gw.url,
    cookie,
    from: 300_000,
  });
  const before = await memory();
  // Connected and idle: what the connections themselves hold.
  const idle = await openClients(gw.url, CLIENTS, 0, 0, cookie);
  const connected = await memory();
  await idle.collect();
  const many = await measure(gw, CLIENTS, 400_000, cookie);
  const after = await memory();
  await gw.stop();

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(
    `\nmachine: ${cpu} × ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(
        " ",
      )}; ${where}; clients in ${WORKERS} worker thread(s) of this process, server in its own`,
  );
  console.log(
    `workload: ${EVENTS} lead.events.v1 events (after ${WARMUP} warm-up) at ${RATE}/s, each on its own lead; latency = published on the bus → SSE frame read by the client\n`,
  );
  const row = (label: string, m: Measured, b?: Measured) => {
    const r = (k: "p50" | "p95" | "p99") =>
      b ? ` (${ratio(m.perClient[k], b.perClient[k])})` : "";
    return `${label.padEnd(28)} p50 ${ms(m.perClient.p50).padStart(9)}${r("p50")}  p95 ${ms(m.perClient.p95).padStart(9)}${r("p95")}  p99 ${ms(m.perClient.p99).padStart(9)}${r("p99")}  to every client: p95 ${ms(m.everyClient.p95)}, max ${ms(m.everyClient.max)}${m.perClient.missing ? `; ${m.perClient.missing} frames missing` : ""}`;
  };
  console.log(row("baseline, 1 client", baseOne));
  console.log(row(`baseline, ${CLIENTS} clients`, baseMany));
  console.log(row("gateway, 1 client", one, baseOne));
  console.log(row(`gateway, ${CLIENTS} clients`, many, baseMany));
  console.log(
    `  (× = against the baseline with as many clients)\n→ visible in the browser (one client): ${browser ? `p50 ${ms(browser.p50)}, p95 ${ms(browser.p95)}, p99 ${ms(browser.p99)}` : "not measured (hook: measureVisibleInBrowser in apps/gateway/bench/live.bench.ts)"}`,
  );
  const perConnection = (k: "rss" | "heapUsed") =>
    `${((connected[k] - before[k]) / CLIENTS / 1024).toFixed(1)} KiB`;
  console.log(
    `\ngateway RSS (after a GC): ${mb(atStart.rss)} at start (PGlite's memory included), ${mb(before.rss)} after the 1-client run, ${mb(connected.rss)} with ${CLIENTS} idle clients connected, ${mb(after.rss)} after the ${CLIENTS}-client run`,
  );
  console.log(
    `per connection: ${perConnection("rss")} RSS, ${perConnection("heapUsed")} of JS heap (heap ${mb(before.heapUsed)} → ${mb(connected.heapUsed)} with ${CLIENTS} connected → ${mb(after.heapUsed)} after the run)`,
  );
  const verdict = many.perClient.p95 <= TARGET_P95_MS ? "met" : "NOT met";
  console.log(
    `target p95 ≤ ${TARGET_P95_MS} ms to an SSE client with ${CLIENTS} clients: ${verdict} (${ms(many.perClient.p95)})`,
  );
  if (browser)
    console.log(
      `target p95 ≤ 1 s to the screen: ${browser.p95 <= 1_000 ? "met" : "NOT met"} (${ms(browser.p95)} over ${browser.samples} events, ${browser.missing} not seen within 10 s)`,
    );
}

// Last: everything above is initialised by then (the worker threads run this file too).
if (!isMainThread) await clientWorker(workerData as WorkerInput);
else await main();
