import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { bytesToHex, hexToBytes } from '@aureon/crypto'
import { type Block, createGenesis, type GenesisConfig, openChainStore } from '@aureon/ledger'
import {
  createSnapshot,
  exportSnapshot,
  listSnapshots,
  readManifest,
  SNAPSHOT_EXPORT_STORE_OPTIONS,
  SNAPSHOT_STORE_OPTIONS,
} from '@aureon/snapshots'
import { createMemoryStore, openLevelStore } from '@aureon/storage'
import { ConfigError, DEFAULT_SNAPSHOT_CHUNK_SIZE, isHash32Hex } from '../../config.js'
import {
  AnchorError,
  checkAnchorBlock,
  importAndAnchor,
  readAnchorBlock,
  writeAnchorBlock,
} from '../../snapshot-anchor.js'
import type { SnapshotCommonOptions } from './options.js'
import { progressReporter } from './progress.js'

/**
 * The store options of a snapshot command: SNAPSHOT_EXPORT_STORE_OPTIONS (create, export) or
 * SNAPSHOT_STORE_OPTIONS (import), with --max-open-files when given.
 */
function storeOptions(opts: SnapshotCommonOptions, use: 'export' | 'import') {
  const base = use === 'export' ? SNAPSHOT_EXPORT_STORE_OPTIONS : SNAPSHOT_STORE_OPTIONS
  if (opts.maxOpenFiles === undefined) return base
  const maxOpenFiles = Number(opts.maxOpenFiles)
  if (!Number.isInteger(maxOpenFiles) || maxOpenFiles < 1) {
    throw new ConfigError(`--max-open-files must be a positive integer, not ${opts.maxOpenFiles}`)
  }
  return { ...base, maxOpenFiles }
}

/** A non-negative integer flag (--height, --chain-id) as a bigint; a bad one is ERR_CONFIG. */
function bigintFlag(name: string, v: string): bigint {
  if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(v))
    throw new ConfigError(`${name} must be a non-negative integer, not ${v}`)
  return BigInt(v)
}

/** A 32-byte hash flag (--state-root, --block-hash) as bytes; a bad one is ERR_CONFIG. */
function hashFlag(name: string, v: string | undefined): Uint8Array | undefined {
  if (v === undefined) return undefined
  if (!isHash32Hex(v))
    throw new ConfigError(`${name} must be 32 bytes in hex (0x + 64 hex digits), not ${v}`)
  return hexToBytes(v)
}

/** --height as a bigint, or undefined when not given. */
function heightFlag(opts: SnapshotCommonOptions): bigint | undefined {
  return opts.height === undefined ? undefined : bigintFlag('--height', opts.height)
}

const replacer = (_k: string, v: unknown) =>
  typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? bytesToHex(v) : v

function print(x: unknown): void {
  process.stdout.write(`${JSON.stringify(x, replacer, 2)}\n`)
}

/** Opens a (stopped) node's data folder and the block to snapshot. */
async function openChainAt(opts: SnapshotCommonOptions) {
  // flags first, then the folder: opening would create an empty database in a mistyped --data-dir
  const options = storeOptions(opts, 'export')
  const wanted = heightFlag(opts)
  const path = join(resolve(opts.dataDir), 'db')
  if (!existsSync(path)) throw new ConfigError(`${opts.dataDir} holds no chain`)
  const db = await openLevelStore({ path, ...options })
  const chain = await openChainStore({ db })
  const head = chain.head()
  if (!head) {
    await db.close()
    throw new ConfigError(`${opts.dataDir} holds no chain`)
  }
  const height = wanted ?? head.height
  const block = await chain.getBlockByHeight(height)
  const header = block?.header
  const hash = await chain.getBlockHash(height)
  if (!block || !header || !hash) {
    await db.close()
    throw new ConfigError(`no committed block at height ${height} (head is ${head.height})`)
  }
  return {
    db,
    chain,
    block,
    target: { chainId: header.chainId, height, blockHash: hash, stateRoot: header.stateRoot },
  }
}

export function snapshotsDir(dataDir: string): string {
  return join(resolve(dataDir), 'snapshots')
}

export async function snapshotCreate(opts: SnapshotCommonOptions): Promise<void> {
  const { db, chain, block, target } = await openChainAt(opts)
  const p = progressReporter('snapshot')
  try {
    const r = await createSnapshot({
      ...target,
      stateDb: chain.stateDb,
      snapshotsDir: snapshotsDir(opts.dataDir),
      // served to state-syncing peers: chunks that fit one p2p response
      chunkSize: DEFAULT_SNAPSHOT_CHUNK_SIZE,
      onProgress: p.update,
    })
    p.stop()
    await writeAnchorBlock(r.path, block)
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
  const { db, chain, block, target } = await openChainAt(opts)
  const p = progressReporter('export')
  try {
    const r = await exportSnapshot({
      ...target,
      stateDb: chain.stateDb,
      file: resolve(file),
      onProgress: p.update,
    })
    p.stop()
    const blockFile = await writeAnchorBlock(resolve(file), block)
    print({
      file: resolve(file),
      blockFile,
      height: target.height,
      stateRoot: target.stateRoot,
      chunks: r.manifest.chunks.length,
    })
  } finally {
    await db.close()
  }
}

/**
 * Imports a snapshot into a data folder and anchors the chain at its block, so that the node
 * started on that folder continues from the snapshot's height. Every chunk is verified against
 * the trusted state root (from `--state-root`, or the snapshot's own block when none is given:
 * then say so loudly). The state goes into a fresh namespace; the folder's current chain (if any)
 * stays live until the import is complete, and stays untouched on any error.
 */
export async function snapshotImport(
  file: string,
  opts: SnapshotCommonOptions & {
    chainId: string
    stateRoot?: string
    blockHash?: string
    block?: string
    genesis?: string
    force?: boolean
    verifyWorkers?: string
  },
): Promise<void> {
  const source = resolve(file)
  const chainId = bigintFlag('--chain-id', opts.chainId)
  const height = heightFlag(opts)
  const options = storeOptions(opts, 'import')
  let workers: number | undefined
  if (opts.verifyWorkers !== undefined) {
    workers = Number(opts.verifyWorkers)
    if (!Number.isInteger(workers) || workers < 0 || workers > 16) {
      throw new ConfigError(
        `--verify-workers must be an integer from 0 to 16, not ${opts.verifyWorkers}`,
      )
    }
  }
  const stateRoot = hashFlag('--state-root', opts.stateRoot)
  const blockHash = hashFlag('--block-hash', opts.blockHash)
  const blockFile = opts.block ? resolve(opts.block) : undefined
  if (blockFile && !existsSync(blockFile))
    throw new ConfigError(`--block ${opts.block}: no such file`)
  const manifest = await readManifest(source)
  const block = await readAnchorBlock(source, blockFile)
  if (!block) {
    throw new AnchorError(
      'ERR_SNAPSHOT_NO_BLOCK',
      `${file} comes without its block ${manifest.height} (aureon keeps it as block.bin in a snapshot folder, <file>.block next to a packed file): give it with --block <file>`,
    )
  }
  checkAnchorBlock(block, manifest)
  const dataDir = resolve(opts.dataDir)
  let genesis: Block | undefined
  const genesisPath = opts.genesis ? resolve(opts.genesis) : join(dataDir, 'genesis.json')
  if (opts.genesis || existsSync(genesisPath)) {
    let config: GenesisConfig
    try {
      config = JSON.parse(readFileSync(genesisPath, 'utf8')) as GenesisConfig
    } catch (e) {
      throw new ConfigError(`cannot read genesis ${genesisPath}: ${(e as Error).message}`)
    }
    genesis = (await createGenesis({ config, db: createMemoryStore() })).block
  }
  const db = await openLevelStore({ path: join(dataDir, 'db'), ...options })
  const p = progressReporter('import')
  try {
    const chain = await openChainStore({ db })
    const head = chain.head()
    if (head && head.chainId !== chainId) {
      throw new AnchorError(
        'ERR_SNAPSHOT_WRONG_CHAIN',
        `${opts.dataDir} holds chain ${head.chainId}, not ${opts.chainId}: use an empty --data-dir`,
      )
    }
    if (head && head.height >= manifest.height && !opts.force) {
      throw new AnchorError(
        'ERR_SNAPSHOT_NOT_NEWER',
        `${opts.dataDir} is already at height ${head.height}, the snapshot is of ${manifest.height}: pass --force to replace the chain anyway`,
      )
    }
    genesis ??= await chain.getBlockByHeight(0n)
    const r = await importAndAnchor({
      db,
      chain,
      source,
      block,
      genesis,
      expect: {
        chainId,
        height,
        stateRoot,
        blockHash,
      },
      stagingDir: join(dataDir, 'tmp'),
      verifyThreads: workers === undefined ? undefined : { workers },
      onProgress: p.update,
    })
    p.stop()
    print({
      namespace: r.namespace,
      height: r.height,
      stateRoot: r.stateRoot,
      blockHash: r.blockHash,
      anchored: true,
      genesis: genesis ? 'kept at height 0' : 'written when the node starts',
      trusted: opts.stateRoot
        ? 'state root given on the command line'
        : opts.blockHash
          ? 'block hash given on the command line'
          : "the snapshot's own block (pass --state-root or --block-hash to pin it)",
      chunks: manifest.chunks.length,
    })
  } finally {
    p.stop()
    await db.close()
  }
}
