// Shared policy for fixtures: unique names, skip-or-fail, Docker detection.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";

/** True when a missing service must fail the run instead of skipping (CI). */
export function requireServices(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.REQUIRE_SERVICES === "1" || env.REQUIRE_SERVICES === "true";
}

/** A name no other suite or run will pick: topics, groups and databases share one server. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

export function dockerAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.TESTCONTAINERS_DISABLED === "1") return false;
  if (env.DOCKER_HOST) return true;
  return existsSync("/var/run/docker.sock");
}

/**
 * Called when no service could be found: fail under REQUIRE_SERVICES, otherwise
 * print one line that nobody can miss and let the caller skip.
 */
export function unavailable(service: string, hint: string): null {
  const message = `${service} unavailable: ${hint}`;
  if (requireServices()) {
    throw new Error(`REQUIRE_SERVICES=1 but ${message}`);
  }
  process.stderr.write(`\n!!! SKIPPING ${service} integration tests — ${message}\n\n`);
  return null;
}
