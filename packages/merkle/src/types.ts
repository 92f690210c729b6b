import type { BatchOp, KVStore } from '@aureon/storage'

/** Options of {@link createStateTree}. */
export interface StateTreeOptions {
  /** Where committed trie nodes live (keys: 32-byte node hashes). */
  db: KVStore
  /** Root to open (default: the empty trie). Must be in `db` (or be the empty root). */
  root?: Uint8Array
  /** Secure trie: keys are keccak256-hashed before insertion (default true, Ethereum state). */
  secure?: boolean
  /** Trie nodes kept in memory (hot-node cache; default 200,000). */
  cacheSize?: number
}

/** One update of {@link StateTree.batch}; a put with an empty value deletes. */
export interface StateTreeOp {
  type: 'put' | 'del'
  key: Uint8Array
  value?: Uint8Array
}

/** A leaf of the trie, by its path (the hashed key in a secure trie). */
export interface TreeEntry {
  keyHash: Uint8Array
  value: Uint8Array
}

/** Options of {@link StateTree.entries}. */
export interface EntriesOptions {
  /** First path to include (inclusive; default: the smallest). */
  startKeyHash?: Uint8Array
  /** At most this many entries. */
  limit?: number
}

/** Options of {@link StateTree.createRangeProof}. */
export interface RangeProofOptions {
  /** Origin of the range (inclusive): the proof also proves nothing lies between it and the first key. */
  startKeyHash: Uint8Array
  /** Last path to include (inclusive; default: no bound). */
  endKeyHash?: Uint8Array
  /** At most this many leaves (default 1,000). */
  limit?: number
}

/** A contiguous run of leaves with the boundary proofs that bind it to a root. */
export interface RangeProof {
  /** The requested origin. */
  startKeyHash: Uint8Array
  /** Paths (hashed keys), strictly increasing. */
  keys: Uint8Array[]
  values: Uint8Array[]
  /** Nodes of the paths to `startKeyHash` and to the last key (deduplicated). */
  proof: Uint8Array[]
}

/** Options of {@link verifyProof}. */
export interface VerifyProofOptions {
  root: Uint8Array
  key: Uint8Array
  proof: Uint8Array[]
  /** Secure trie (default true): `key` is hashed. */
  secure?: boolean
}

/** Options of {@link verifyRangeProof}. */
export interface VerifyRangeProofOptions extends RangeProof {
  root: Uint8Array
}

/** The state tree interface (see {@link createStateTree}). */
export interface StateTree {
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  put(key: Uint8Array, value: Uint8Array): Promise<void>
  del(key: Uint8Array): Promise<void>
  batch(ops: StateTreeOp[]): Promise<void>
  root(): Uint8Array
  setRoot(root: Uint8Array): Promise<void>
  checkpoint(): void
  commit(): Promise<void>
  revert(): Promise<void>
  readonly checkpoints: number
  entries(opts?: EntriesOptions): AsyncIterable<TreeEntry>
  createProof(key: Uint8Array): Promise<Uint8Array[]>
  createRangeProof(opts: RangeProofOptions): Promise<RangeProof>
  flush(opts?: { namespace?: string[] }): BatchOp[]
  copy(root?: Uint8Array): StateTree
}
