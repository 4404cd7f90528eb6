/**
 * Whether the dashboard's production build (`.next/`) is missing or older than what it is
 * made of — asked by `pnpm demo`, `pnpm stack` and the browser tests' harness before they
 * run `next start`, so none of them serves a dashboard older than its sources.
 * Node built-ins only: the callers are plain Node scripts.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const WEB_DIR = import.meta.dirname;
const ROOT = join(WEB_DIR, "../..");

/** Newest modification time of the dashboard's sources (what its build is made of). */
function newestSource(): number {
  let newest = 0;
  const visit = (path: string) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const name of readdirSync(path))
        if (name !== "node_modules" && name !== ".next" && name !== "e2e") visit(join(path, name));
    } else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ["app", "components", "lib", "next.config.ts", "package.json"])
    visit(join(WEB_DIR, p));
  for (const p of ["instrumentation.ts", "instrumentation-client.ts"]) visit(join(WEB_DIR, p));
  visit(join(ROOT, "packages/telemetry/src/scrub.ts"));
  return newest;
}

/** Whether the dashboard's production build is missing or older than its sources. */
export function dashboardBuildStale(): boolean {
  const id = statSync(join(WEB_DIR, ".next/BUILD_ID"), { throwIfNoEntry: false });
  return !id || id.mtimeMs < newestSource();
}
