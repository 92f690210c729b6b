import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const root = dirname(fileURLToPath(import.meta.url))

export interface AureonVitestOptions {
  /** Minimum percentage of lines covered, checked on every run with coverage. */
  coverageLines?: number
  /** Per-test timeout in ms. */
  testTimeout?: number
}

/**
 * The vitest configuration every package uses: tests run on `src` directly (workspace packages
 * resolve to their sources, so no build is needed first), v8 coverage per package.
 */
export function defineAureonConfig(opts: AureonVitestOptions = {}) {
  return defineConfig({
    resolve: {
      alias: [
        {
          find: /^@aureon\/([a-z0-9-]+)$/,
          replacement: `${resolve(root, 'packages')}/$1/src/index.ts`,
        },
      ],
    },
    test: {
      include: ['test/**/*.test.ts'],
      // generous: a loaded 2-core CI machine is slow; speed is measured in benchmarks, not here
      testTimeout: opts.testTimeout ?? 120_000,
      hookTimeout: 120_000,
      coverage: {
        provider: 'v8',
        include: ['src/**/*.ts'],
        exclude: ['src/**/*.d.ts'],
        reporter: ['text-summary', 'json-summary'],
        thresholds: opts.coverageLines ? { lines: opts.coverageLines } : undefined,
      },
    },
  })
}
