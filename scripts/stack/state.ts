/**
 * `<state dir>/state.json`: what a running stack is made of (each process's app,
 * instance, pid, port, URL and log), written as each process is spawned so that
 * `pnpm stack down` finds even a stack whose start was interrupted. No secrets in it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AppName } from "./apps.ts";

export type InstanceState = {
  app: AppName;
  n: number;
  name: string;
  pid: number;
  port: number;
  url: string;
  /** What answers 200 once the process is ready (`/readyz`; the dashboard's `/login`). */
  readyUrl: string;
  log: string;
  cwd: string;
  /** Leads its own process group (stopped as a group). */
  group: boolean;
};

export type StackState = {
  startedAt: string;
  /** Still starting: some processes may not be recorded yet. */
  starting: boolean;
  root: string;
  kafkaBrokers: string;
  /** With the password masked. */
  database: string;
  topicPrefix: string;
  instances: InstanceState[];
};

export const statePath = (stateDir: string) => join(stateDir, "state.json");

export function readState(stateDir: string): StackState | undefined {
  const file = statePath(stateDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StackState;
  } catch (error) {
    throw new Error(
      `${file} is not readable JSON (${(error as Error).message}); stop any stack processes by hand and delete it`,
    );
  }
}

/** Written to a temporary file and renamed: a reader never sees half a file. */
export function writeState(stateDir: string, state: StackState): void {
  mkdirSync(stateDir, { recursive: true });
  const file = statePath(stateDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function clearState(stateDir: string): void {
  rmSync(statePath(stateDir), { force: true });
}

/** `postgres://pw:***@host/db`: a URL fit to print. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}
