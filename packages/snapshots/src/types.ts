import type { KVStore } from '@aureon/storage'
import type { ChunkVerifierThreads } from './verify-pool.js'

/** Per-chunk entry of a manifest. */
export interface ChunkInfo {
  /** sha256 of the compressed chunk bytes (what is stored and transferred). */
  hash: Uint8Array
  /** Bytes before compression (<= 4 MiB). */
  rawSize: number
  /** Bytes after zstd compression. */
  compressedSize: number
  /** Range of account-trie keys (hashed) this chunk proves, if it carries one. */
  accountRange?: { start: Uint8Array; end: Uint8Array }
  /** Leaves carried (account and storage leaves). */
  leafCount: number
}

/** What a snapshot is of, and how it is cut. */
export interface SnapshotManifest {
  version: number
  chainId: bigint
  height: bigint
  blockHash: Uint8Array
  stateRoot: Uint8Array
  chunks: ChunkInfo[]
  /** Sum of rawSize. */
  totalRawSize: number
  /** Sum of compressedSize. */
  totalCompressedSize: number
  /** Accounts (account-trie leaves, reserved records included) in the state. */
  accountCount: number
  /** Contract storage leaves in the state. */
  storageCount: number
  /** Distinct contract code blobs. */
  codeCount: number
}

/** A progress report of export, import and sync. */
export interface SnapshotProgress {
  /**
   * `write` (an import with a staging folder): every chunk is verified, the trie nodes are being
   * written in key order; `bytes` and `totalBytes` then count the nodes' bytes (`totalBytes`
   * counts a node met in two chunks twice until the last report, where it equals `bytes`).
   */
  phase: 'export' | 'import' | 'write'
  /** Chunks done. */
  chunks: number
  /** Chunks in all (known on import; on export, the chunks written so far). */
  totalChunks?: number
  /** Uncompressed state bytes done. */
  bytes: number
  /** Uncompressed bytes in all (import only). */
  totalBytes?: number
  /** Compressed bytes done. */
  compressedBytes: number
  /** Uncompressed bytes per second since the start. */
  rate: number
  /** Milliseconds since the start. */
  elapsedMs: number
  /** Estimated milliseconds left (import only). */
  etaMs?: number
}

export type ProgressCallback = (p: SnapshotProgress) => void

/** The block a snapshot is taken at. */
export interface SnapshotTarget {
  chainId: bigint
  height: bigint
  blockHash: Uint8Array
  stateRoot: Uint8Array
}

/** Options of {@link exportSnapshot}. */
export interface ExportSnapshotOptions extends SnapshotTarget {
  /** The state store: trie nodes by hash, code in its `code` namespace (ledger's layout). */
  stateDb: KVStore
  /** Folder to write (created; must not hold a manifest yet). One of `dir` or `file`. */
  dir?: string
  /** Single packed file to write. One of `dir` or `file`. */
  file?: string
  /** Most uncompressed bytes per chunk (default and maximum 4 MiB). */
  chunkSize?: number
  /** zstd level (default 3). */
  level?: number
  onProgress?: ProgressCallback
  signal?: AbortSignal
}

/** What export and import return. */
export interface SnapshotResult {
  manifest: SnapshotManifest
  elapsedMs: number
}

/** A place chunks come from: a folder, a packed file, or peers (state sync). */
export interface ChunkSource {
  manifest(): Promise<SnapshotManifest>
  /** The compressed bytes of chunk `index` (verified by the importer, not by the source). */
  chunk(index: number): Promise<Uint8Array>
  close?(): Promise<void>
}

/** What the importer expects the snapshot to be (from config or a trusted header). */
export interface SnapshotExpectation {
  chainId: bigint
  height?: bigint
  blockHash?: Uint8Array
  stateRoot?: Uint8Array
}

/** Options of {@link importSnapshot}. */
export interface ImportSnapshotOptions {
  /** A folder or packed file path, or any ChunkSource (e.g. a multi-source state-sync fetcher). */
  source: string | ChunkSource
  /** Root store of the node; the import writes only into `db.namespace(namespace)`. */
  db: KVStore
  /** Fresh namespace to build the state in (default `'state-import'`). */
  namespace?: string
  expect: SnapshotExpectation
  /** Chunks fetched and verified at once (default 4). */
  concurrency?: number
  /**
   * A folder for scratch files (e.g. a `tmp` folder in the node's data folder). The import
   * creates `<namespace>.sort` in it (removing what a crashed import left there) and removes it
   * at the end. With it, the verified trie nodes are kept sorted by hash in run files and written
   * into the store in key order once every chunk is verified, so LevelDB flushes tables that do
   * not overlap and has almost nothing to compact (1M accounts: about 1.5x faster, 10 s less
   * CPU), for a copy of the nodes on disk during the import. Without it, each verified chunk's
   * nodes are written as they come.
   */
  stagingDir?: string
  /**
   * Where chunks are verified. Default: one worker thread beside the calling thread when the
   * machine has two cores or more (and the library runs from its built code); `{ workers: 0 }`
   * verifies on the calling thread only (about 60-80 MiB less peak RSS, slower). With a
   * `stagingDir`, a worker also merges the sorted runs while the calling thread writes them;
   * the workers stop when the import ends.
   */
  verifyThreads?: ChunkVerifierThreads
  onProgress?: ProgressCallback
  signal?: AbortSignal
}

/** What {@link importSnapshot} returns. */
export interface ImportSnapshotResult extends SnapshotResult {
  /** The namespace holding the imported state (open a WorldState over it at `stateRoot`). */
  namespace: string
  stateRoot: Uint8Array
  height: bigint
  blockHash: Uint8Array
}
