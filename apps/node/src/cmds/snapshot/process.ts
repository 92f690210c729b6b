import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { SNAPSHOT_NODE_FLAGS, SNAPSHOT_PROCESS_ENV } from '@aureon/snapshots'

/** Set in the worker process `aureon snapshot` starts (or by hand, to run in this process). */
export const SNAPSHOT_IN_PROCESS_ENV = 'AUREON_SNAPSHOT_IN_PROCESS'

/**
 * Runs a snapshot command in a child Node process started with the snapshot memory settings of
 * `@aureon/snapshots` (SNAPSHOT_NODE_FLAGS, SNAPSHOT_PROCESS_ENV): V8 flags and malloc settings
 * must be given when a process starts. The child is this CLI with the same arguments; its output
 * is this process's; this process exits with the child's code. With AUREON_SNAPSHOT_IN_PROCESS=1
 * the command runs here instead (the child runs with it set).
 */
export function inSnapshotProcess<A extends unknown[]>(
  run: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    if (process.env[SNAPSHOT_IN_PROCESS_ENV] === '1' || !process.argv[1]) return run(...args)
    const child = spawn(
      process.execPath,
      [...SNAPSHOT_NODE_FLAGS, ...process.execArgv, process.argv[1], ...process.argv.slice(2)],
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
