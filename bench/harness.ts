/**
 * The benchmark harness every package uses. A figure is the median of repeated runs; a figure may
 * carry the baseline it is compared against in the same run and their ratio. Results are written
 * to bench/results/<package>.json at the repository root.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface BenchResult {
  name: string
  value: number
  unit: string
  baseline?: string
  baselineValue?: number
  ratio?: number
  samples?: number
  note?: string
}

const resultsDir = resolve(dirname(fileURLToPath(import.meta.url)), 'results')

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** The p-th percentile (nearest rank: the ceil(p/100 x n)-th smallest, 0 < p <= 100). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) throw new Error('percentile of an empty list')
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

/** Runs `fn` `runs` times (after `warmup` unmeasured runs) and returns the median duration in ms. */
export async function timeMedian(
  fn: () => unknown | Promise<unknown>,
  runs = 5,
  warmup = 1,
): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    await fn()
    times.push(performance.now() - t0)
  }
  return median(times)
}

/** Operations per second: runs `op` `count` times per sample, median over `runs` samples. */
export async function opsPerSec(
  op: () => unknown | Promise<unknown>,
  count: number,
  runs = 5,
): Promise<number> {
  const ms = await timeMedian(async () => {
    for (let i = 0; i < count; i++) await op()
  }, runs)
  return (count * 1000) / ms
}

/** Collects results for one package and writes them as JSON. */
export class BenchReport {
  readonly results: BenchResult[] = []
  constructor(readonly pkg: string) {}

  add(r: BenchResult): BenchResult {
    if (r.baselineValue !== undefined && r.ratio === undefined && r.baselineValue !== 0) {
      r.ratio = Number((r.value / r.baselineValue).toFixed(4))
    }
    r.value = Number(r.value.toPrecision(6))
    if (r.baselineValue !== undefined) r.baselineValue = Number(r.baselineValue.toPrecision(6))
    this.results.push(r)
    console.log(JSON.stringify(r))
    return r
  }

  write(): string {
    mkdirSync(resultsDir, { recursive: true })
    const file = join(resultsDir, `${this.pkg}.json`)
    writeFileSync(file, `${JSON.stringify(this.results, null, 2)}\n`)
    console.log(`bench: wrote ${file}`)
    return file
  }
}
