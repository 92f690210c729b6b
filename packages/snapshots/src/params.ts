/** Format version written in manifests, chunks and packed files. */
export const SNAPSHOT_FORMAT_VERSION = 1
/** Most bytes of a chunk before compression (4 MiB). */
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024
/** Room kept free in a chunk for the edge proofs added when it is closed. */
export const CHUNK_PROOF_RESERVE = 128 * 1024
/** Default zstd level. */
export const DEFAULT_ZSTD_LEVEL = 3
/** Magic of a manifest ("AUSM"). */
export const MANIFEST_MAGIC = new Uint8Array([0x41, 0x55, 0x53, 0x4d])
/** Magic of a chunk body ("AUSC"). */
export const CHUNK_MAGIC = new Uint8Array([0x41, 0x55, 0x53, 0x43])
/** Magic at both ends of a packed snapshot file ("AUSP"). */
export const PACK_MAGIC = new Uint8Array([0x41, 0x55, 0x53, 0x50])
/** File name of the manifest inside a snapshot folder. */
export const MANIFEST_FILE = 'manifest.bin'
/** Root of the empty Merkle Patricia trie: keccak256(RLP('')). */
export const EMPTY_TRIE_ROOT = new Uint8Array(
  Buffer.from('56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421', 'hex'),
)
/** sha256 of the empty string: code hash of accounts without code. */
export const EMPTY_CODE_HASH = new Uint8Array(
  Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'),
)
/** Namespace (under the state store) that holds contract code by sha256 hash (as the ledger). */
export const CODE_NAMESPACE = 'code'
/** Key (in the import namespace's `meta` sub-namespace) written when an import is complete. */
export const IMPORT_COMPLETE_KEY = new TextEncoder().encode('import-complete')
/** Key (in the import namespace's `meta` sub-namespace) written before an import writes anything. */
export const IMPORT_STARTED_KEY = new TextEncoder().encode('import-started')
/** Name of the sub-namespace of an import target that holds import bookkeeping. */
export const IMPORT_META_NAMESPACE = 'snapshot-meta'
/** File name of chunk `i` inside a snapshot folder. */
export function chunkFileName(i: number): string {
  return `chunk-${String(i).padStart(6, '0')}.zst`
}
/**
 * LevelDB options for the store a snapshot is imported into (`aureon snapshot import` opens the
 * data folder with them): a 4 MiB block cache; an import writes in key order and reads little.
 */
export const SNAPSHOT_STORE_OPTIONS: { readonly cacheSize: number } = {
  cacheSize: 4 * 1024 * 1024,
}
/**
 * LevelDB options for the store a snapshot is exported from (`aureon snapshot create|export`):
 * a 4 MiB block cache and `maxOpenFiles: 74`, LevelDB's minimum: a table cache of 64 files.
 * LevelDB memory-maps each table file it holds open, and a walk reading trie nodes by hash
 * touches them all at random, so with the default (1000) the RSS grows by about the size of the
 * database; with 64 open tables it stays under 64 x the table size (2 MiB by default) whatever
 * the database size. The export's sweeping reads keep the reopening this causes cheap.
 * LevelDB's cache has 16 shards of ceil(capacity / 16) entries, so any value from 75 to 90 gives
 * the same 80-table cache: measured at 1M accounts (89 tables), 74 gave 260-268 MiB peak RSS,
 * 75-76 gave 288-302 MiB and were 0-9% faster (fewer reopens).
 */
export const SNAPSHOT_EXPORT_STORE_OPTIONS: {
  readonly cacheSize: number
  readonly maxOpenFiles: number
} = { ...SNAPSHOT_STORE_OPTIONS, maxOpenFiles: 74 }
/**
 * Node/V8 flags of a process that imports a snapshot (`aureon snapshot import` starts its worker
 * process with them). A 16 MiB semi-space and a 512 MiB old-generation limit make V8 keep the
 * heap near the live set (which the pipeline bounds) instead of letting it grow to several
 * hundred MB under its allocation rate. The old-generation limit is a hard cap: the import's
 * per-contract bookkeeping (storage roots, code hashes, about 300 bytes a contract) is the one
 * part that grows with the state and would reach it at roughly a million contracts.
 */
export const SNAPSHOT_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=16',
  '--max-old-space-size=512',
]
/**
 * Node/V8 flags of a process that exports a snapshot (`aureon snapshot create|export`): as
 * {@link SNAPSHOT_NODE_FLAGS} with an 8 MiB semi-space. Measured at 1M accounts: about 18 MB
 * less peak RSS than 16 MiB for about 3% more time (4 MiB saves little more and costs 10%).
 */
export const SNAPSHOT_EXPORT_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=8',
  '--max-old-space-size=512',
]
/**
 * Environment of a snapshot process (export and import): two glibc malloc arenas instead of 8
 * per core, and a fixed 128 KiB mmap threshold, so that the pipelines' multi-MB buffers (chunks,
 * zstd output) are mapped and returned on free instead of raising glibc's dynamic threshold to
 * their size and staying in the arenas. Measured at 1M accounts: about 10 MB less peak RSS for
 * export and 25 MB for import, at the same speed.
 */
export const SNAPSHOT_PROCESS_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
}
