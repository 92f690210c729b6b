/**
 * A put or a delete inside an atomic batch. `namespace` is the path of sub-namespaces RELATIVE to
 * the store `batch` is called on: `root.batch([{ type: 'put', namespace: ['blocks'], key, value }])`
 * writes into `root.namespace('blocks')` in the same atomic write as the batch's other ops.
 */
export type BatchOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array; namespace?: string[] }
  | { type: 'del'; key: Uint8Array; namespace?: string[] }

/**
 * Range and order of an iteration. Bounds compare keys byte by byte (unsigned). When both `gt` and
 * `gte` (or `lt` and `lte`) are given, the exclusive bound wins.
 */
export interface IterateOptions {
  gt?: Uint8Array
  gte?: Uint8Array
  lt?: Uint8Array
  lte?: Uint8Array
  /** At most this many entries (a negative value or `Infinity` means no limit). */
  limit?: number
  /** Descending key order. */
  reverse?: boolean
}

/** Options of a read ({@link KVStore.get}, {@link KVStore.getMany}). */
export interface ReadOptions {
  /**
   * Whether the blocks read may enter the store's block cache (LevelDB; default true). A
   * one-pass scan of data it will not read again (a snapshot export's trie walk) passes false:
   * it then neither evicts what others cache nor pays for the cache's bookkeeping (measured on a
   * 1M-account export: about 15% less CPU). The memory store ignores it.
   */
  fillCache?: boolean
}

/**
 * An ordered key-value store of bytes with namespaces and atomic batches.
 *
 * Every namespace is isolated: iterating a store never yields the keys of its sub-namespaces, and
 * the same key in two namespaces names two different entries.
 */
export interface KVStore {
  /** The value stored under `key`, or `undefined`. */
  get(key: Uint8Array, opts?: ReadOptions): Promise<Uint8Array | undefined>
  /** Values for many keys at once, in the order asked (`undefined` where absent). */
  getMany(keys: Uint8Array[], opts?: ReadOptions): Promise<(Uint8Array | undefined)[]>
  put(key: Uint8Array, value: Uint8Array): Promise<void>
  del(key: Uint8Array): Promise<void>
  has(key: Uint8Array): Promise<boolean>
  /** ONE atomic write: either every op is applied or none is. Ops may name sub-namespaces. */
  batch(ops: BatchOp[]): Promise<void>
  /** Entries in byte order of their keys (descending with `reverse`). */
  iterate(opts?: IterateOptions): AsyncIterableIterator<[Uint8Array, Uint8Array]>
  /** A sub-namespace (nested namespaces allowed). Names are non-empty and contain no NUL. */
  namespace(name: string): KVStore
  /** The path of this store from its root store (`[]` for the root). */
  readonly path: readonly string[]
  /** Closes the underlying database. On a namespace view it closes the whole database too. */
  close(): Promise<void>
}

/** Options of {@link openLevelStore}. */
export interface LevelStoreOptions {
  /** Directory of the LevelDB database (created if missing). */
  path: string
  /** LevelDB block cache in bytes (default 32 MiB). */
  cacheSize?: number
  /** LevelDB write buffer in bytes (default 16 MiB). */
  writeBufferSize?: number
  /**
   * Table files LevelDB keeps open (default 1000). An open table file is memory-mapped, and
   * every page read from it stays resident (file-backed RSS) until the table leaves this cache,
   * so a small value (e.g. 74) bounds that part of the RSS of a full scan (a snapshot export)
   * at about (`maxOpenFiles` - 10) x `maxFileSize`, at the cost of reopening tables more often.
   * LevelDB raises values below 74 to 74.
   */
  maxOpenFiles?: number
  /** Uncompressed size in bytes of a LevelDB data block (default 4 KiB). */
  blockSize?: number
  /** Size in bytes at which LevelDB starts a new table file (default 2 MiB). */
  maxFileSize?: number
}
