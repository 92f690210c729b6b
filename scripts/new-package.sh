#!/usr/bin/env bash
# Creates a package skeleton: scripts/new-package.sh <folder-name> <description> [node-range] [coverage]
set -euo pipefail
name=$1; desc=$2; range=${3:->=20.19}; cov=${4:-90}
dir=packages/$name
mkdir -p "$dir/src" "$dir/test" "$dir/bench" "$dir/examples"
cat > "$dir/package.json" <<JSON
{
  "name": "@aureon/$name",
  "version": "0.1.0",
  "description": "$desc",
  "license": "MIT",
  "type": "module",
  "sideEffects": false,
  "exports": {
    ".": {
      "types": "./dist/index.d.ts",
      "import": "./dist/index.js"
    },
    "./package.json": "./package.json"
  },
  "main": "./dist/index.js",
  "types": "./dist/index.d.ts",
  "files": ["dist", "README.md", "CHANGELOG.md"],
  "engines": { "node": "$range" },
  "scripts": {
    "build": "tsup",
    "test": "vitest run --coverage",
    "check:package": "publint --strict && attw --pack . --profile esm-only",
    "bench": "tsx bench/index.ts"
  },
  "dependencies": {},
  "devDependencies": {}
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "outDir": "dist", "rootDir": "." },
  "include": ["src", "test", "bench", "examples"]
}
JSON
cat > "$dir/tsup.config.ts" <<TS
import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
})
TS
cat > "$dir/vitest.config.ts" <<TS
import { defineAureonConfig } from '../../vitest.shared.js'

export default defineAureonConfig({ coverageLines: $cov })
TS
cat > "$dir/CHANGELOG.md" <<MD
# @aureon/$name

## 0.1.0

- First release.
MD
[ -f "$dir/README.md" ] || echo "# @aureon/$name

$desc" > "$dir/README.md"
[ -f "$dir/src/index.ts" ] || echo "export {}" > "$dir/src/index.ts"
