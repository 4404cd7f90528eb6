#!/usr/bin/env bash
# Source me: puts Node 24 and pnpm on PATH. Uses what the machine has when it is
# recent enough, else installs both from the npm registry into .tools/ (the
# `node` npm package ships the real binary; nothing is downloaded from elsewhere).
NODE_VERSION="${PW_NODE_VERSION:-24.21.0}"
PNPM_VERSION="${PW_PNPM_VERSION:-12.21.0}"
_pw_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_pw_tools="$_pw_root/.tools"

_pw_node_ok() { command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" -ge 24 ] 2>/dev/null; }
_pw_pnpm_ok() { command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null | cut -d. -f1)" -ge 12 ] 2>/dev/null; }

if [ -x "$_pw_tools/node_modules/.bin/node" ]; then
  export PATH="$_pw_tools/node_modules/.bin:$PATH"
fi
if ! _pw_node_ok || ! _pw_pnpm_ok; then
  echo "==> installing node@$NODE_VERSION and pnpm@$PNPM_VERSION into .tools/ (npm registry)" >&2
  mkdir -p "$_pw_tools"
  [ -f "$_pw_tools/package.json" ] || echo '{"private":true}' > "$_pw_tools/package.json"
  npm install --prefix "$_pw_tools" --no-fund --no-audit --loglevel=error \
    "node@$NODE_VERSION" "pnpm@$PNPM_VERSION" >&2
  export PATH="$_pw_tools/node_modules/.bin:$PATH"
fi
if ! _pw_node_ok; then echo "error: Node >= 24 is required (found $(node --version 2>/dev/null || echo none))" >&2; return 1 2>/dev/null || exit 1; fi
echo "==> node $(node --version), pnpm $(pnpm --version)" >&2
