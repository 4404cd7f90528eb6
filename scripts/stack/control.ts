/**
 * `pnpm stack status` and `pnpm stack down` from any shell: both read state.json, so
 * they work on a stack that another process started (and left running).
 */
import { spawn } from "node:child_process";
import { pidIsOurs, probe, stopAll } from "./processes.ts";
import { ROOT } from "./start.ts";
import { clearState, readState } from "./state.ts";

export type InstanceStatus = {
  name: string;
  pid: number;
  url: string;
  alive: boolean;
  ready: boolean;
  /** What /readyz (or the dashboard's /login) answered, or why it did not. */
  detail: string;
};

/** Each recorded process: alive (and still ours), and what its readiness URL answers. */
export async function stackStatus(
  stateDir: string,
): Promise<{ running: boolean; starting: boolean; instances: InstanceStatus[]; summary: string }> {
  const state = readState(stateDir);
  if (!state)
    return {
      running: false,
      starting: false,
      instances: [],
      summary: `no stack recorded in ${stateDir}`,
    };
  const instances = await Promise.all(
    state.instances.map(async (i): Promise<InstanceStatus> => {
      const alive = pidIsOurs(i.pid, i.cwd);
      if (!alive)
        return { name: i.name, pid: i.pid, url: i.url, alive, ready: false, detail: "not running" };
      const r = await probe(i.readyUrl, 3_000);
      return {
        name: i.name,
        pid: i.pid,
        url: i.url,
        alive,
        ready: r.status === 200,
        detail: r.status ? `${r.status}${r.status === 200 ? "" : ` ${unready(r.body)}`}` : r.error,
      };
    }),
  );
  return {
    running: instances.some((i) => i.alive),
    starting: state.starting,
    instances,
    summary: `started ${state.startedAt}; kafka ${state.kafkaBrokers}${state.topicPrefix ? ` (topic prefix ${state.topicPrefix})` : ""}; database ${state.database}`,
  };
}

/** The required checks a 503 /readyz reports down, else the start of its body. */
function unready(body: string): string {
  try {
    const json = JSON.parse(body) as {
      checks?: Record<string, { status?: string; required?: boolean; reason?: string }>;
    };
    const bad = Object.entries(json.checks ?? {})
      .filter(([, c]) => c.required && c.status === "down")
      .map(([name, c]) => `${name} down${c.reason ? ` (${c.reason})` : ""}`);
    if (bad.length > 0) return bad.join(", ");
  } catch {
    // not JSON (cut short, or a page)
  }
  return body.slice(0, 120);
}

/**
 * SIGTERM to every recorded process, SIGKILL to what is left after `timeoutMs`, then
 * state.json is removed. With `services`, PostgreSQL and Kafka are stopped too
 * (`scripts/services.sh down`).
 */
export async function stackDown(
  stateDir: string,
  o: { timeoutMs: number; services: boolean; progress: (line: string) => void },
): Promise<{ stopped: number; killed: string[] }> {
  const state = readState(stateDir);
  let result = { stopped: 0, killed: [] as string[] };
  if (state) {
    const list = state.instances.filter((i) => pidIsOurs(i.pid, i.cwd));
    o.progress(`==> stopping ${list.length} process${list.length === 1 ? "" : "es"}`);
    const { killed } = await stopAll([...list].reverse(), o);
    result = { stopped: list.length, killed };
    clearState(stateDir);
  } else {
    o.progress(`==> no stack recorded in ${stateDir}`);
  }
  if (o.services) {
    o.progress("==> stopping PostgreSQL and Kafka (scripts/services.sh down)");
    await new Promise<void>((done, fail) => {
      const child = spawn("bash", [`${ROOT}/scripts/services.sh`, "down"], { stdio: "inherit" });
      child.once("error", fail);
      child.once("exit", (code) =>
        code === 0 ? done() : fail(new Error(`scripts/services.sh down exited ${code}`)),
      );
    });
  }
  return result;
}
