#!/usr/bin/env bash
# Runs the library packages' tests on the machine's own Node 20 as well, to prove the Node range
# they declare. Needs the toolchain's install (node_modules) but not its Node.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node20="${AUREON_NODE20:-}"
if [ -z "$node20" ] || ! "$node20" --version | grep -q '^v20\.'; then
  for c in /usr/local/bin/node /usr/bin/node; do
    if [ -x "$c" ] && "$c" --version | grep -q '^v20\.'; then node20=$c; break; fi
  done
fi
if [ -z "$node20" ]; then echo "node20: no Node 20 on this machine; skipped" >&2; exit 0; fi
# The full seeded BFT safety suites (500 runs) run on Node 24 in the same CI; on Node 20 they
# are a compatibility check, so a smaller seed set keeps CI under its time budget.
export AUREON_BFT_RUNS="${AUREON_BFT_RUNS:-40}"
echo "node20: library tests on $("$node20" --version)"
for pkg in ${AUREON_NODE20_PACKAGES:-crypto storage merkle ledger runtime consensus p2p rpc}; do
  dir="$root/packages/$pkg"
  [ -d "$dir/test" ] || continue
  echo "node20: @aureon/$pkg"
  (cd "$dir" && AUREON_NODE20_RUN=1 "$node20" "$root/node_modules/vitest/vitest.mjs" run --reporter=dot)
done
