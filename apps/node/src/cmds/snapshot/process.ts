import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { constants } from 'node:os'
import { fileURLToPath } from 'node:url'

/** Set in the worker process `aureon snapshot` starts (or by hand, to run in this process). */
export const SNAPSHOT_IN_PROCESS_ENV = 'AUREON_SNAPSHOT_IN_PROCESS'

/**
 * The entry the worker process runs: snapshot-worker.js next to the built CLI (dist/, where this
 * code sits in cli.js or a shared chunk), or src/snapshot-worker.ts when the CLI runs from its
 * sources (tsx). Undefined when neither is there: the worker is then the whole CLI.
 */
export function snapshotWorkerEntry(): string | undefined {
  for (const rel of ['./snapshot-worker.js', '../../snapshot-worker.ts']) {
    const path = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(path)) return path
  }
  return undefined
}

/**
 * Runs a snapshot command in a child Node process started with the snapshot memory settings of
 * `@aureon/snapshots` (SNAPSHOT_EXPORT_NODE_FLAGS for create/export, SNAPSHOT_NODE_FLAGS for
 * import, SNAPSHOT_PROCESS_ENV): V8 flags and malloc settings
 * must be given when a process starts. The child is the snapshot worker (snapshot-worker.ts: the
 * snapshot commands only, not the rest of the CLI) with the same arguments; its output is this
 * process's; this process exits with the child's code. With AUREON_SNAPSHOT_IN_PROCESS=1 the
 * command runs here instead (the child runs with it set).
 */
export function inSnapshotProcess<A extends unknown[]>(
  use: 'export' | 'import',
  run: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    if (process.env[SNAPSHOT_IN_PROCESS_ENV] === '1' || !process.argv[1]) return run(...args)
    // imported here: `aureon --help` and the other commands need not load @aureon/snapshots
    const { SNAPSHOT_EXPORT_NODE_FLAGS, SNAPSHOT_NODE_FLAGS, SNAPSHOT_PROCESS_ENV } = await import(
      '@aureon/snapshots'
    )
    const flags = use === 'export' ? SNAPSHOT_EXPORT_NODE_FLAGS : SNAPSHOT_NODE_FLAGS
    const entry = snapshotWorkerEntry() ?? process.argv[1]
    const child = spawn(
      process.execPath,
      [...flags, ...process.execArgv, entry, ...process.argv.slice(2)],
      {
        stdio: 'inherit',
        env: { ...process.env, ...SNAPSHOT_PROCESS_ENV, [SNAPSHOT_IN_PROCESS_ENV]: '1' },
      },
    )
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig)
    const onInt = forward('SIGINT')
    const onTerm = forward('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    const code = await new Promise<number>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (c, sig) => resolve(c ?? 128 + (sig ? constants.signals[sig] : 0)))
    }).finally(() => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
    })
    // the child reported its own result or error; pass its exit code on
    if (code !== 0) process.exit(code)
  }
}
