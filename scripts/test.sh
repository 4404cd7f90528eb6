#!/usr/bin/env bash
# Runs every test suite on a fresh clone: Node 24 + pnpm (from the npm registry
# if missing), dependencies from the lockfile, real PostgreSQL and Kafka
# (scripts/services.sh), then `pnpm test` with REQUIRE_SERVICES=1 so that an
# integration suite fails rather than skips when its service is missing.
# Extra arguments go to vitest, e.g. `bash scripts/test.sh packages/bus`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
echo "==> pnpm install --frozen-lockfile" >&2
pnpm install --frozen-lockfile --reporter=append-only >&2
bash scripts/services.sh up
eval "$(bash scripts/services.sh env)"
export REQUIRE_SERVICES="${REQUIRE_SERVICES:-1}"
# The browser suite runs against the dashboard's production build.
echo "==> next build (apps/web)" >&2
NEXT_TELEMETRY_DISABLED=1 pnpm --filter @pw/web build >&2
echo "==> pnpm test (KAFKA_BROKERS=$KAFKA_BROKERS, REQUIRE_SERVICES=$REQUIRE_SERVICES)" >&2
pnpm test "$@"
