/**
 * Snapshot benchmarks on a LevelStore state of 1,000,000 accounts plus contract storage
 * (AUREON_BENCH_ACCOUNTS to change). Each phase runs in a child process (bench/phase.ts) so its
 * peak RSS is measured alone. Baseline in the same run: the raw pipeline (iterate the same
 * LevelDB, zstd-compress the same bytes in 4 MiB blocks; import = decompress + batch-write them).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BenchReport, median } from '../../../bench/harness.js'
import {
  SNAPSHOT_EXPORT_NODE_FLAGS,
  SNAPSHOT_EXPORT_STORE_OPTIONS,
  SNAPSHOT_NODE_FLAGS,
  SNAPSHOT_PROCESS_ENV,
  SNAPSHOT_STORE_OPTIONS,
} from '../src/params.js'

const here = dirname(fileURLToPath(import.meta.url))
// the phases run on the built package (dist/), like the CLI: it must be there and current
const built = join(here, '..', 'dist', 'index.js')
const srcDir = join(here, '..', 'src')
const newestSrc = Math.max(...readdirSync(srcDir).map((f) => statSync(join(srcDir, f)).mtimeMs))
if (!existsSync(built) || statSync(built).mtimeMs < newestSrc) {
  console.error('bench: dist/ is missing or older than src/: run `pnpm build` first')
  process.exit(2)
}
const dir = process.env.AUREON_BENCH_DIR ?? join(tmpdir(), 'aureon-snapshots-bench')
const RUNS = Number(process.env.AUREON_BENCH_RUNS ?? 1)

interface PhaseResult {
  ms: number
  cpuMs: number
  bytes: number
  compressed?: number
  chunks?: number
  rss: number
  /** import: when the last chunk was verified and staged (the sorted write follows) */
  verifiedMs?: number
  peak: { rssAnon: number; rssFile: number; heapTotal: number }
}

// export and import run as `aureon snapshot` runs them: its Node flags, environment and store
// options (SNAPSHOT_EXPORT_NODE_FLAGS / SNAPSHOT_NODE_FLAGS, SNAPSHOT_PROCESS_ENV,
// SNAPSHOT_EXPORT_STORE_OPTIONS / SNAPSHOT_STORE_OPTIONS); setup and the raw pipeline run with
// Node's defaults
const CLI_FLAGS: Record<string, readonly string[]> = {
  export: SNAPSHOT_EXPORT_NODE_FLAGS,
  'export-unbounded': SNAPSHOT_EXPORT_NODE_FLAGS,
  import: SNAPSHOT_NODE_FLAGS,
}

function run(phase: string, extraEnv: Record<string, string> = {}): PhaseResult {
  const flags = CLI_FLAGS[phase]
  const cli = flags !== undefined
  const out = execFileSync(
    process.execPath,
    [...(flags ?? []), join(here, 'phase.ts'), phase, dir],
    {
      cwd: join(here, '..'),
      env: { ...process.env, ...(cli ? SNAPSHOT_PROCESS_ENV : {}), ...extraEnv },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    },
  ).toString()
  const line = out.trim().split('\n').pop() as string
  const r = JSON.parse(line) as PhaseResult
  console.error(`phase ${phase}: ${JSON.stringify(r)}`)
  return r
}

function medianOf(phase: string, extraEnv: Record<string, string> = {}): PhaseResult {
  const rs = Array.from({ length: RUNS }, () => run(phase, extraEnv))
  const ms = median(rs.map((r) => r.ms))
  const best = rs.find((r) => r.ms === ms) ?? rs[0]
  return {
    ...best,
    ms,
    cpuMs: median(rs.map((r) => r.cpuMs)),
    rss: median(rs.map((r) => r.rss)),
    verifiedMs: best.verifiedMs,
  }
}

const t0 = performance.now()
const loads: number[] = []
const sampleLoad = setInterval(() => loads.push(loadavg()[0]), 5000)
run('setup')
const rawExp = medianOf('raw-export')
const exp = medianOf('export')
// the same with LevelDB's default table cache (1000 open, memory-mapped table files)
const expUnbounded = medianOf('export-unbounded')
const rawImp = medianOf('raw-import')
const imp = medianOf('import')
// the same import verifying on the main thread only (`--verify-workers 0`): the memory trade-off
const impLean = medianOf('import', { AUREON_BENCH_VERIFY_WORKERS: '0' })
// MB/s of the same bytes for every phase: the state as stored (every trie node and code blob of
// the state namespace, keys + values), i.e. what the raw pipeline iterates. The snapshot format
// is smaller than the state (no interior hashes), so its own byte count is in the notes.
const stateBytes = rawExp.bytes
const mbps = (r: PhaseResult) => stateBytes / 1e6 / (r.ms / 1000)
// peaks sampled every 100 ms: anonymous memory (heap, buffers, LevelDB cache, malloc), file pages
// (the node binary and LevelDB's memory-mapped table files, which grow with the database size)
const parts = (r: PhaseResult) =>
  `sampled peaks: anonymous ${r.peak.rssAnon} MB (V8 heap ${r.peak.heapTotal} MB), file-backed ${r.peak.rssFile} MB`
const fmtMbps = (r: PhaseResult) => (r.bytes / 1e6 / (r.ms / 1000)).toFixed(2)

clearInterval(sampleLoad)
const env = Object.entries(SNAPSHOT_PROCESS_ENV)
  .map(([k, v]) => `${k}=${v}`)
  .join(' ')
const exportConfig = `run as \`aureon snapshot create|export\` runs it: node ${SNAPSHOT_EXPORT_NODE_FLAGS.join(' ')}, ${env}, store ${JSON.stringify(SNAPSHOT_EXPORT_STORE_OPTIONS)}`
const importConfig = `run as \`aureon snapshot import\` runs it: node ${SNAPSHOT_NODE_FLAGS.join(' ')}, ${env}, store ${JSON.stringify(SNAPSHOT_STORE_OPTIONS)}`
const cliCaveat =
  'each phase runs bench/phase.ts in plain Node on the built packages, as the `aureon snapshot` worker runs on built code'
const load = `load average ${median(loads.length ? loads : [loadavg()[0]]).toFixed(1)} on ${availableParallelism()} cores`
const report = new BenchReport('snapshots')
const accounts = Number(process.env.AUREON_BENCH_ACCOUNTS ?? 1_000_000)
report.add({
  name: 'snapshot.export',
  value: mbps(exp),
  unit: 'MB/s',
  baseline:
    'raw pipeline: iterate the same LevelDB + zstd level 3 in 4 MiB blocks; both in MB of state bytes (trie nodes + code as stored)',
  baselineValue: mbps(rawExp),
  samples: RUNS,
  note: `${exportConfig}; raw pipeline with Node defaults; ${accounts} accounts + contract storage = ${(stateBytes / 1e6).toFixed(1)} MB of state; export ${(exp.ms / 1000).toFixed(1)} s (CPU ${(exp.cpuMs / 1000).toFixed(1)} s), ${exp.chunks} chunks, ${(exp.bytes / 1e6).toFixed(1)} MB of snapshot (${fmtMbps(exp)} MB/s of snapshot bytes); raw ${(rawExp.ms / 1000).toFixed(1)} s (CPU ${(rawExp.cpuMs / 1000).toFixed(1)} s); CPU-time ratio ${(rawExp.cpuMs / exp.cpuMs).toFixed(3)}; with LevelDB's default table cache (same run): ${(expUnbounded.ms / 1000).toFixed(1)} s = ${mbps(expUnbounded).toFixed(2)} MB/s, ratio ${(mbps(expUnbounded) / mbps(rawExp)).toFixed(3)}; ${load}`,
})
report.add({
  name: 'snapshot.import',
  value: mbps(imp),
  unit: 'MB/s',
  baseline:
    'raw pipeline: zstd-decompress the raw blocks + batch-write them into a fresh LevelDB; both in MB of state bytes',
  baselineValue: mbps(rawImp),
  samples: RUNS,
  note: `${importConfig}; raw pipeline with Node defaults; verified (sha256 + range proofs, trie rebuilt and written) ${process.env.AUREON_BENCH_VERIFY_WORKERS ? `on ${process.env.AUREON_BENCH_VERIFY_WORKERS} worker thread(s) and the main thread` : 'on a worker thread and the main thread (library default on 2+ cores)'}; verify and stage ${((imp.verifiedMs ?? 0) / 1000).toFixed(1)} s, then the sorted write ${((imp.ms - (imp.verifiedMs ?? 0)) / 1000).toFixed(1)} s (median run); fetch concurrency ${process.env.AUREON_BENCH_CONCURRENCY ?? '4 (library default, as the CLI)'}; import ${(imp.ms / 1000).toFixed(1)} s (CPU ${(imp.cpuMs / 1000).toFixed(1)} s, ${fmtMbps(imp)} MB/s of snapshot bytes); verifying on the main thread only (--verify-workers 0, same run): ${(impLean.ms / 1000).toFixed(1)} s = ${mbps(impLean).toFixed(2)} MB/s, ratio ${(mbps(impLean) / mbps(rawImp)).toFixed(3)}; raw ${(rawImp.ms / 1000).toFixed(1)} s (CPU ${(rawImp.cpuMs / 1000).toFixed(1)} s); CPU-time ratio ${(rawImp.cpuMs / imp.cpuMs).toFixed(3)}; ${load}`,
})
report.add({
  name: 'snapshot.compression',
  value: exp.bytes / (exp.compressed as number),
  unit: 'ratio',
  baseline: 'raw pipeline (trie nodes as stored, zstd level 3)',
  baselineValue: rawExp.bytes / (rawExp.compressed as number),
  samples: RUNS,
})
report.add({
  name: 'snapshot.export.rss',
  value: exp.rss,
  unit: 'MB',
  samples: RUNS,
  note: `peak RSS (maxRSS, file-backed pages included) of the export process, ${exportConfig} (target < 300 MB); ${parts(exp)}; with LevelDB's default table cache (same run): ${expUnbounded.rss.toFixed(0)} MB (${parts(expUnbounded)}); raw pipeline (Node defaults) ${rawExp.rss.toFixed(0)} MB (${parts(rawExp)}); ${cliCaveat}; ${load}`,
})
report.add({
  name: 'snapshot.import.rss',
  value: imp.rss,
  unit: 'MB',
  samples: RUNS,
  note: `peak RSS (maxRSS, file-backed pages included) of the import process, ${importConfig} (the issue's 300 MB target is the export's); ${parts(imp)}; verifying on the main thread only (--verify-workers 0, same run): ${impLean.rss.toFixed(0)} MB (${parts(impLean)}); raw pipeline (Node defaults) ${rawImp.rss.toFixed(0)} MB (${parts(rawImp)}); ${cliCaveat}; ${load}`,
})
report.write()
if (!process.env.AUREON_BENCH_KEEP) rmSync(dir, { recursive: true, force: true })
console.error(`bench: total ${((performance.now() - t0) / 1000).toFixed(0)} s`)
