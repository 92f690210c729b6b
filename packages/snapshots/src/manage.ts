/**
 * Snapshot folders managed by a node: one folder per height under a snapshots directory, and
 * pruning to the last K (what `aureon snapshot create|list` and automatic snapshots need).
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { exportSnapshot } from './export.js'
import { listSnapshots, type SnapshotListEntry } from './io.js'
import type { ExportSnapshotOptions, SnapshotResult } from './types.js'

/** Options of {@link createSnapshot}: export options without the destination. */
export interface CreateSnapshotOptions extends Omit<ExportSnapshotOptions, 'dir' | 'file'> {
  /** Directory holding one folder per snapshot (created if missing). */
  snapshotsDir: string
}

/** Folder name of the snapshot at `height` (zero-padded so names sort by height). */
export function snapshotFolderName(height: bigint): string {
  return `height-${height.toString().padStart(12, '0')}`
}

/**
 * Exports the state at `height` into `<snapshotsDir>/height-<height>`.
 * @example
 * const { path } = await createSnapshot({ snapshotsDir: '/data/snapshots', stateDb, chainId,
 *   height, blockHash, stateRoot })
 */
export async function createSnapshot(
  opts: CreateSnapshotOptions,
): Promise<SnapshotResult & { path: string }> {
  const { snapshotsDir, ...rest } = opts
  const path = join(snapshotsDir, snapshotFolderName(opts.height))
  const r = await exportSnapshot({ ...rest, dir: path })
  return { ...r, path }
}

/**
 * Keeps the `keep` highest snapshots in `snapshotsDir` and deletes the others; returns what was
 * deleted. Unfinished exports (no manifest) are left alone.
 * @example
 * await pruneSnapshots({ snapshotsDir: '/data/snapshots', keep: 3 })
 */
export async function pruneSnapshots(opts: {
  snapshotsDir: string
  keep: number
}): Promise<SnapshotListEntry[]> {
  const all = await listSnapshots(opts.snapshotsDir)
  const drop = all.slice(0, Math.max(0, all.length - Math.max(0, opts.keep)))
  for (const s of drop) await rm(s.path, { recursive: true, force: true })
  return drop
}
