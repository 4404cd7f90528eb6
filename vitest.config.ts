// Two projects: fast unit tests next to the code, and integration suites
// (*.int.test.ts) that need a real Kafka broker and a real PostgreSQL (see
// packages/testkit). `pnpm test` runs both; CI sets REQUIRE_SERVICES=1 so an
// integration suite that cannot reach its services fails instead of skipping.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // CI reads the JSON report to prove the integration suites really ran.
    reporters: process.env.CI
      ? ["default", ["json", { outputFile: "test-results/vitest.json" }]]
      : ["default"],
    projects: [
      {
        test: {
          name: "unit",
          // bench/: the CLIs there (e.g. pnpm sim:engine) are tested as processes.
          // docker/: the deployment files, checked without a Docker engine.
          include: ["{apps,packages}/*/{src,bench,scripts}/**/*.test.ts", "docker/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          // e2e: the dashboard in Chromium (apps/web/e2e), on the one-process stack.
          include: ["{apps,packages}/*/{src,e2e}/**/*.int.test.ts"],
          exclude: ["**/node_modules/**"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Suites share one broker and one database server; each suite
          // isolates itself with unique topic / group / database names.
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
    ],
  },
});
