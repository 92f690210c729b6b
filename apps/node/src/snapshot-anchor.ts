/**
 * Starting a chain from a snapshot: the snapshot's block H is kept next to it (the snapshot
 * format carries the state only), the state is imported and verified into a FRESH namespace,
 * then the ChainStore is anchored at block H, which moves the live pointer in one atomic batch.
 * Any failure before that (corrupt, forged, wrong chain, crash) leaves the live chain untouched.
 */
import { existsSync } from 'node:fs'
import { readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex, equalBytes } from '@aureon/crypto'
import {
  type Block,
  blockHash,
  type ChainNamespaces,
  type ChainStore,
  decodeBlock,
  encodeBlock,
} from '@aureon/ledger'
import {
  type ChunkSource,
  type ChunkVerifierThreads,
  CODE_NAMESPACE,
  discardImport,
  IMPORT_META_NAMESPACE,
  type ImportSnapshotResult,
  importSnapshot,
  type ProgressCallback,
  readManifest,
  type SnapshotExpectation,
  type SnapshotManifest,
} from '@aureon/snapshots'
import { clearStore, type KVStore } from '@aureon/storage'

/** File name of block H inside a snapshot folder (written by the node next to `manifest.bin`). */
export const ANCHOR_BLOCK_FILE = 'block.bin'
/** Suffix of the file holding block H next to a packed snapshot file. */
export const ANCHOR_BLOCK_SUFFIX = '.block'

/** An error of starting from a snapshot that a user can cause. `code` is stable. */
export class AnchorError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'AnchorError'
  }
}

/** Where block H of the snapshot at `source` (folder or packed file) is kept. */
export async function anchorBlockPath(source: string): Promise<string> {
  const isDir = (await stat(source).catch(() => undefined))?.isDirectory() ?? false
  return isDir ? join(source, ANCHOR_BLOCK_FILE) : `${source}${ANCHOR_BLOCK_SUFFIX}`
}

/** Writes block H next to the snapshot at `source` (atomically: temp file, then rename). */
export async function writeAnchorBlock(source: string, block: Block): Promise<string> {
  const path = await anchorBlockPath(source)
  await writeFile(`${path}.tmp`, encodeBlock(block))
  await rename(`${path}.tmp`, path)
  return path
}

/** Reads block H kept next to the snapshot at `source` (undefined when there is none). */
export async function readAnchorBlock(source: string, file?: string): Promise<Block | undefined> {
  const path = file ?? (await anchorBlockPath(source))
  if (!existsSync(path)) return undefined
  try {
    return decodeBlock(new Uint8Array(await readFile(path)))
  } catch (e) {
    throw new AnchorError(
      'ERR_SNAPSHOT_BLOCK',
      `${path} is not a valid block: ${(e as Error).message}`,
    )
  }
}

/** Checks that `block` is the block the manifest was taken at (hash, height, root, chain). */
export function checkAnchorBlock(block: Block, m: SnapshotManifest): void {
  const h = block.header
  const hash = blockHash(h)
  const bad = (what: string) => {
    throw new AnchorError(
      'ERR_SNAPSHOT_BLOCK',
      `the snapshot's block does not match its manifest (${what}): block ${bytesToHex(hash)} at ${h.height}, manifest ${bytesToHex(m.blockHash)} at ${m.height}`,
    )
  }
  if (h.chainId !== m.chainId) bad('chain id')
  if (h.height !== m.height) bad('height')
  if (!equalBytes(hash, m.blockHash)) bad('block hash')
  if (!equalBytes(h.stateRoot, m.stateRoot)) bad('state root')
}

/** Deletes a namespace the chain no longer uses (a state namespace with its code and import meta). */
export async function clearNamespace(db: KVStore, name: string): Promise<void> {
  const ns = db.namespace(name)
  for (const s of [ns.namespace(CODE_NAMESPACE), ns.namespace(IMPORT_META_NAMESPACE), ns]) {
    await clearStore(s)
  }
}

/**
 * Clears the namespaces of earlier generations that are no longer live (left behind when a node
 * stopped between moving the live pointer and deleting the old namespaces). Cheap when clean.
 */
export async function clearStaleNamespaces(db: KVStore, chain: ChainStore): Promise<string[]> {
  const live = chain.namespaces()
  const cleared: string[] = []
  for (let g = 0; g < live.generation; g++) {
    for (const name of g === 0 ? ['state', 'chain'] : [`state-${g}`, `chain-${g}`]) {
      if (name === live.state || name === live.chain) continue
      const ns = db.namespace(name)
      let used = false
      for (const s of [ns, ns.namespace(CODE_NAMESPACE), ns.namespace(IMPORT_META_NAMESPACE)]) {
        for await (const _ of s.iterate({ limit: 1 })) used = true
      }
      if (!used) continue
      await clearNamespace(db, name)
      cleared.push(name)
    }
  }
  return cleared
}

export interface ImportAndAnchorOptions {
  /** The node's root store. */
  db: KVStore
  chain: ChainStore
  /** Snapshot folder or packed file path, or a ChunkSource (state sync). */
  source: string | ChunkSource
  /** Block H (checked against the manifest before anything is written). */
  block: Block
  /** The genesis block, kept at height 0. */
  genesis?: Block
  expect: SnapshotExpectation
  concurrency?: number
  /** Scratch folder of the import (see importSnapshot's `stagingDir`). */
  stagingDir?: string
  /** Where chunks are verified (see importSnapshot's `verifyThreads`). */
  verifyThreads?: ChunkVerifierThreads
  onProgress?: ProgressCallback
}

export interface ImportAndAnchorResult extends ImportSnapshotResult {
  /** The namespaces that were live before (now cleared). */
  previous: ChainNamespaces
  /** The live namespaces now. */
  live: ChainNamespaces
}

/**
 * Verifies and imports a snapshot into fresh namespaces, anchors the chain at its block, then
 * clears the namespaces that were live before.
 * @example
 * await importAndAnchor({ db, chain, source: 'state.snap', block, expect: { chainId: 1337n } })
 */
export async function importAndAnchor(o: ImportAndAnchorOptions): Promise<ImportAndAnchorResult> {
  const manifest =
    typeof o.source === 'string' ? await readManifest(o.source) : await o.source.manifest()
  // a block that is not the snapshot's is refused before anything is written
  checkAnchorBlock(o.block, manifest)
  const next = o.chain.nextNamespaces()
  // a crashed earlier attempt may have left an (even complete) import there: it is not live
  await discardImport({ db: o.db, namespace: next.state })
  const r = await importSnapshot({
    source: o.source,
    db: o.db,
    namespace: next.state,
    expect: {
      chainId: o.expect.chainId,
      height: o.expect.height ?? o.block.header.height,
      blockHash: o.expect.blockHash ?? blockHash(o.block.header),
      stateRoot: o.expect.stateRoot ?? o.block.header.stateRoot,
    },
    concurrency: o.concurrency,
    stagingDir: o.stagingDir,
    verifyThreads: o.verifyThreads,
    onProgress: o.onProgress,
  })
  checkAnchorBlock(o.block, r.manifest)
  let previous: ChainNamespaces
  try {
    previous = await o.chain.anchor({
      stateNamespace: next.state,
      block: o.block,
      genesis: o.genesis,
    })
  } catch (e) {
    await discardImport({ db: o.db, namespace: next.state }).catch(() => undefined)
    throw e
  }
  await clearNamespace(o.db, previous.state)
  await clearNamespace(o.db, previous.chain)
  return { ...r, previous, live: o.chain.namespaces() }
}
