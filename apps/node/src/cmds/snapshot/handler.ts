import { join, resolve } from 'node:path'
import { bytesToHex, hexToBytes } from '@aureon/crypto'
import { openChainStore } from '@aureon/ledger'
import {
  createSnapshot,
  exportSnapshot,
  importSnapshot,
  listSnapshots,
  readManifest,
} from '@aureon/snapshots'
import { openLevelStore } from '@aureon/storage'
import type { SnapshotCommonOptions } from './options.js'
import { progressReporter } from './progress.js'

const replacer = (_k: string, v: unknown) =>
  typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? bytesToHex(v) : v

function print(x: unknown): void {
  process.stdout.write(`${JSON.stringify(x, replacer, 2)}\n`)
}

/** Opens a (stopped) node's data folder and the block to snapshot. */
async function openChainAt(opts: SnapshotCommonOptions) {
  const db = await openLevelStore({ path: join(resolve(opts.dataDir), 'db') })
  const chain = await openChainStore({ db })
  const head = chain.head()
  if (!head) {
    await db.close()
    throw new Error(`${opts.dataDir} holds no chain`)
  }
  const height = opts.height !== undefined ? BigInt(opts.height) : head.height
  const header = await chain.getHeader(height)
  const hash = await chain.getBlockHash(height)
  if (!header || !hash) {
    await db.close()
    throw new Error(`no committed block at height ${height} (head is ${head.height})`)
  }
  return {
    db,
    chain,
    target: { chainId: header.chainId, height, blockHash: hash, stateRoot: header.stateRoot },
  }
}

export function snapshotsDir(dataDir: string): string {
  return join(resolve(dataDir), 'snapshots')
}

export async function snapshotCreate(opts: SnapshotCommonOptions): Promise<void> {
  const { db, chain, target } = await openChainAt(opts)
  const p = progressReporter('snapshot')
  try {
    const r = await createSnapshot({
      ...target,
      stateDb: chain.stateDb,
      snapshotsDir: snapshotsDir(opts.dataDir),
      onProgress: p.update,
    })
    p.stop()
    print({
      path: r.path,
      height: target.height,
      stateRoot: target.stateRoot,
      chunks: r.manifest.chunks.length,
      ms: Math.round(r.elapsedMs),
    })
  } finally {
    await db.close()
  }
}

export async function snapshotList(opts: SnapshotCommonOptions): Promise<void> {
  print(await listSnapshots(snapshotsDir(opts.dataDir)))
}

export async function snapshotExport(file: string, opts: SnapshotCommonOptions): Promise<void> {
  const { db, chain, target } = await openChainAt(opts)
  const p = progressReporter('export')
  try {
    const r = await exportSnapshot({
      ...target,
      stateDb: chain.stateDb,
      file: resolve(file),
      onProgress: p.update,
    })
    p.stop()
    print({
      file: resolve(file),
      height: target.height,
      stateRoot: target.stateRoot,
      chunks: r.manifest.chunks.length,
    })
  } finally {
    await db.close()
  }
}

/**
 * Imports a snapshot into a data folder, verifying every chunk against the trusted state root
 * (from `--state-root`, or the manifest's when none is given: then say so loudly).
 */
export async function snapshotImport(
  file: string,
  opts: SnapshotCommonOptions & { chainId: string; stateRoot?: string; blockHash?: string },
): Promise<void> {
  const manifest = await readManifest(resolve(file))
  const db = await openLevelStore({ path: join(resolve(opts.dataDir), 'db') })
  const p = progressReporter('import')
  try {
    const r = await importSnapshot({
      source: resolve(file),
      db,
      expect: {
        chainId: BigInt(opts.chainId),
        height: opts.height !== undefined ? BigInt(opts.height) : undefined,
        stateRoot: opts.stateRoot ? hexToBytes(opts.stateRoot) : undefined,
        blockHash: opts.blockHash ? hexToBytes(opts.blockHash) : undefined,
      },
      onProgress: p.update,
    })
    p.stop()
    print({
      namespace: r.namespace,
      height: r.height,
      stateRoot: r.stateRoot,
      blockHash: r.blockHash,
      trusted: opts.stateRoot
        ? 'state root given on the command line'
        : 'the manifest (pass --state-root to pin it)',
      chunks: manifest.chunks.length,
    })
  } finally {
    await db.close()
  }
}
