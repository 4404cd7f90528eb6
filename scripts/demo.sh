#!/usr/bin/env bash
# `bash scripts/demo.sh` — the newcomer's way to run the demo on a fresh clone with only
# Node/npm: Node 24 and pnpm from the npm registry into .tools/ when missing (as
# scripts/test.sh does), dependencies from the lockfile, then `pnpm demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
echo "==> installing dependencies from the lockfile (the first run takes a minute or two)" >&2
pnpm install --frozen-lockfile --reporter=silent >&2
exec pnpm demo "$@"
