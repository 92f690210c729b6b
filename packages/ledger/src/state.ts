/**
 * WorldState over @aureon/merkle's StateTree.
 *
 * Accounts live in the secure trie keyed by address; validator records under reserved keys of
 * the same trie; each contract's storage in its own trie (root in `storageRoot`, values stored
 * as RLP(value) so an empty value differs from an absent key); code in the store namespace
 * `code` by sha256 hash.
 *
 * Writes go to an in-memory overlay with a journal (checkpoint / commit / revert nest, cost is
 * per write, not per account). `root()` folds the overlay into the tries once: each touched
 * account is encoded and written once per block, and the trie is hashed once per block.
 */
import { createStateTree, type StateTree } from '@aureon/merkle'
import type { BatchOp, KVStore } from '@aureon/storage'
import {
  cloneAccount,
  decodeAccount,
  decodeValidatorCandidates,
  decodeValidatorSet,
  emptyAccount,
  encodeAccount,
  encodeValidatorCandidates,
  encodeValidatorSet,
  isEmptyAccount,
} from './account.js'
import {
  compareBytesFast,
  equalBytesFast,
  expectBytes,
  fromHexKey,
  rlpDecodeStrict,
  rlpEncode,
  toHexKey,
} from './codec.js'
import { LedgerError, LedgerErrorCode } from './errors.js'
import { EMPTY_CODE_HASH, EMPTY_TRIE_ROOT, sha256 } from './hash.js'
import { VALIDATOR_CANDIDATES_KEY, VALIDATOR_SET_KEY } from './params.js'
import type {
  Account,
  ValidatorCandidate,
  ValidatorSet,
  WorldState,
  WorldStateOptions,
} from './types.js'

/** Namespace (under the state store) holding contract code by hash. */
export const CODE_NAMESPACE = 'code'

type Undo = () => void

/** Clean accounts kept in memory between blocks before the cache is dropped. */
const MAX_CACHED_ACCOUNTS = 500_000

/**
 * Opens a world state at `root` (default: empty) over a state store.
 * @example
 * const state = await createWorldState({ db: createMemoryStore() })
 * await state.putAccount(addr, { ...emptyAccount(), balance: 10n })
 * const root = await state.root()
 */
export async function createWorldState(opts: WorldStateOptions): Promise<LedgerWorldState> {
  const tree = await createStateTree({ db: opts.db, root: opts.root })
  return new LedgerWorldState(opts.db, tree)
}

/** The ledger's WorldState implementation (see module doc). */
export class LedgerWorldState implements WorldState {
  /** Current view of accounts read or written (null: absent). */
  private accounts = new Map<string, Account | null>()
  private dirtyAccounts = new Set<string>()
  /** Reserved trie keys (validator records). */
  private raw = new Map<string, Uint8Array | null>()
  private dirtyRaw = new Set<string>()
  /** contract hex -> key hex -> value (null: deleted). */
  private storage = new Map<string, Map<string, Uint8Array | null>>()
  private dirtyStorage = new Map<string, Set<string>>()
  private storageTrees = new Map<string, StateTree>()
  /** Code by hash hex; `pendingCode` has not been flushed yet. */
  private codeCache = new Map<string, Uint8Array>()
  private pendingCode = new Map<string, Uint8Array>()
  private journal: Undo[][] = []
  private readonly codeDb: KVStore

  constructor(
    readonly db: KVStore,
    private tree: StateTree,
  ) {
    this.codeDb = db.namespace(CODE_NAMESPACE)
  }

  private record(undo: Undo): void {
    const top = this.journal[this.journal.length - 1]
    if (top) top.push(undo)
  }

  private async loadAccount(address: Uint8Array, key: string): Promise<Account | null> {
    const cached = this.accounts.get(key)
    if (cached !== undefined) return cached
    const enc = await this.tree.get(address)
    // a concurrent load may have filled the cache meanwhile: keep the first (it may be dirty)
    const again = this.accounts.get(key)
    if (again !== undefined) return again
    const acc = enc ? decodeAccount(enc) : null
    this.accounts.set(key, acc)
    return acc
  }

  /** Loads accounts into the cache in parallel (a block prefetches its senders and recipients). */
  async prefetch(addresses: Uint8Array[]): Promise<void> {
    const todo: Promise<unknown>[] = []
    for (const a of addresses) {
      const k = toHexKey(a)
      if (!this.accounts.has(k)) todo.push(this.loadAccount(a, k))
    }
    await Promise.all(todo)
  }

  async getAccount(address: Uint8Array): Promise<Account> {
    const acc = await this.loadAccount(address, toHexKey(address))
    return acc ? cloneAccount(acc) : emptyAccount()
  }

  /**
   * The cached account record itself (no copy): callers must not mutate it. Hot path of the
   * StateProcessor.
   */
  async readAccount(address: Uint8Array): Promise<Readonly<Account> | null> {
    return this.loadAccount(address, toHexKey(address))
  }

  async accountExists(address: Uint8Array): Promise<boolean> {
    return (await this.loadAccount(address, toHexKey(address))) !== null
  }

  async putAccount(address: Uint8Array, account: Account): Promise<void> {
    const key = toHexKey(address)
    if (!this.accounts.has(key)) await this.loadAccount(address, key)
    this.setAccount(key, isEmptyAccount(account) ? null : cloneAccount(account))
  }

  /** Stores `account` as is (no copy, caller hands over ownership); the account must be cached. */
  setAccountOwned(address: Uint8Array, account: Account): void {
    this.setAccount(toHexKey(address), isEmptyAccount(account) ? null : account)
  }

  private tracking?: Map<string, bigint>

  /** Starts noting the balance of each account before its first write (receipt balanceChanges). */
  startBalanceTracking(): void {
    this.tracking = new Map()
  }

  /** Stops tracking; returns address hex -> balance before the first write. */
  stopBalanceTracking(): Map<string, bigint> {
    const t = this.tracking ?? new Map<string, bigint>()
    this.tracking = undefined
    return t
  }

  private setAccount(key: string, value: Account | null): void {
    if (this.tracking && !this.tracking.has(key)) {
      this.tracking.set(key, this.accounts.get(key)?.balance ?? 0n)
    }
    if (this.journal.length > 0) {
      const prev = this.accounts.get(key) as Account | null
      const wasDirty = this.dirtyAccounts.has(key)
      this.record(() => {
        this.accounts.set(key, prev)
        if (!wasDirty) this.dirtyAccounts.delete(key)
      })
    }
    this.accounts.set(key, value)
    this.dirtyAccounts.add(key)
  }

  async getCode(codeHash: Uint8Array): Promise<Uint8Array | undefined> {
    if (equalBytesFast(codeHash, EMPTY_CODE_HASH)) return new Uint8Array(0)
    const k = toHexKey(codeHash)
    const c = this.pendingCode.get(k) ?? this.codeCache.get(k)
    if (c) return c
    const stored = await this.codeDb.get(codeHash)
    if (stored) this.codeCache.set(k, stored)
    return stored
  }

  async putCode(code: Uint8Array): Promise<Uint8Array> {
    const hash = sha256(code)
    const k = toHexKey(hash)
    if (this.codeCache.has(k) || this.pendingCode.has(k)) return hash
    if (await this.codeDb.has(hash)) {
      this.codeCache.set(k, code)
      return hash
    }
    const copy = code.slice()
    this.pendingCode.set(k, copy)
    this.record(() => this.pendingCode.delete(k))
    return hash
  }

  async getContractCode(address: Uint8Array): Promise<Uint8Array | undefined> {
    const acc = await this.readAccount(address)
    if (!acc || equalBytesFast(acc.codeHash, EMPTY_CODE_HASH)) return undefined
    return this.getCode(acc.codeHash)
  }

  private async storageTree(contract: Uint8Array, ck: string): Promise<StateTree | undefined> {
    let t = this.storageTrees.get(ck)
    if (t) return t
    const acc = await this.loadAccount(contract, ck)
    const root = acc?.storageRoot ?? EMPTY_TRIE_ROOT
    if (equalBytesFast(root, EMPTY_TRIE_ROOT) && !this.dirtyStorage.has(ck)) {
      // nothing stored yet: create lazily only when written
      t = await createStateTree({ db: this.db })
    } else {
      t = await createStateTree({ db: this.db, root })
    }
    this.storageTrees.set(ck, t)
    return t
  }

  async getStorage(contract: Uint8Array, key: Uint8Array): Promise<Uint8Array | undefined> {
    const ck = toHexKey(contract)
    const kk = toHexKey(key)
    let m = this.storage.get(ck)
    const hit = m?.get(kk)
    if (hit !== undefined) return hit ?? undefined
    const tree = await this.storageTree(contract, ck)
    const enc = await tree?.get(key)
    const v = enc ? expectBytes(rlpDecodeStrict(enc, 1 << 20, 'storage value'), 'value') : null
    m = this.storage.get(ck)
    if (!m) {
      m = new Map()
      this.storage.set(ck, m)
    }
    if (!m.has(kk)) m.set(kk, v)
    return m.get(kk) ?? undefined
  }

  async putStorage(contract: Uint8Array, key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.writeStorage(contract, key, value.slice())
  }

  async delStorage(contract: Uint8Array, key: Uint8Array): Promise<void> {
    await this.writeStorage(contract, key, null)
  }

  private async writeStorage(
    contract: Uint8Array,
    key: Uint8Array,
    value: Uint8Array | null,
  ): Promise<void> {
    await this.getStorage(contract, key) // loads the previous value for the journal
    const ck = toHexKey(contract)
    const kk = toHexKey(key)
    const m = this.storage.get(ck) as Map<string, Uint8Array | null>
    let d = this.dirtyStorage.get(ck)
    if (!d) {
      d = new Set()
      this.dirtyStorage.set(ck, d)
    }
    const dirty = d
    if (this.journal.length > 0) {
      const prev = m.get(kk) as Uint8Array | null
      const wasDirty = dirty.has(kk)
      this.record(() => {
        m.set(kk, prev)
        if (!wasDirty) dirty.delete(kk)
      })
    }
    m.set(kk, value)
    dirty.add(kk)
  }

  /** A reserved record of the account trie (validator registry, unbonding index). */
  async readRawRecord(key: Uint8Array): Promise<Uint8Array | null> {
    const k = toHexKey(key)
    const c = this.raw.get(k)
    if (c !== undefined) return c
    const v = (await this.tree.get(key)) ?? null
    this.raw.set(k, v)
    return v
  }

  /** Writes (or with null deletes) a reserved record. */
  async writeRawRecord(key: Uint8Array, value: Uint8Array | null): Promise<void> {
    await this.readRawRecord(key)
    const k = toHexKey(key)
    if (this.journal.length > 0) {
      const prev = this.raw.get(k) as Uint8Array | null
      const wasDirty = this.dirtyRaw.has(k)
      this.record(() => {
        this.raw.set(k, prev)
        if (!wasDirty) this.dirtyRaw.delete(k)
      })
    }
    this.raw.set(k, value)
    this.dirtyRaw.add(k)
  }

  async getValidatorSet(): Promise<ValidatorSet> {
    const v = await this.readRawRecord(VALIDATOR_SET_KEY)
    return v ? decodeValidatorSet(v) : { epoch: 0n, validators: [], totalStake: 0n }
  }

  async putValidatorSet(set: ValidatorSet): Promise<void> {
    const validators = [...set.validators].sort((a, b) => compareBytesFast(a.address, b.address))
    await this.writeRawRecord(VALIDATOR_SET_KEY, encodeValidatorSet({ ...set, validators }))
  }

  async getValidatorCandidates(): Promise<ValidatorCandidate[]> {
    const v = await this.readRawRecord(VALIDATOR_CANDIDATES_KEY)
    return v ? decodeValidatorCandidates(v) : []
  }

  async putValidatorCandidates(candidates: ValidatorCandidate[]): Promise<void> {
    const sorted = [...candidates].sort((a, b) => compareBytesFast(a.address, b.address))
    await this.writeRawRecord(
      VALIDATOR_CANDIDATES_KEY,
      sorted.length ? encodeValidatorCandidates(sorted) : null,
    )
  }

  checkpoint(): void {
    this.journal.push([])
  }

  async commit(): Promise<void> {
    const top = this.journal.pop()
    if (!top) throw new LedgerError(LedgerErrorCode.CHECKPOINT, 'commit without a checkpoint')
    const parent = this.journal[this.journal.length - 1]
    if (parent) for (const u of top) parent.push(u)
  }

  async revert(): Promise<void> {
    const top = this.journal.pop()
    if (!top) throw new LedgerError(LedgerErrorCode.CHECKPOINT, 'revert without a checkpoint')
    for (let i = top.length - 1; i >= 0; i--) top[i]()
  }

  /**
   * The root of the state as it is, if nothing was written since the last `root()` and no
   * checkpoint is open (undefined otherwise): `setRoot` to it undoes everything done after.
   */
  cleanRoot(): Uint8Array | undefined {
    if (
      this.journal.length > 0 ||
      this.dirtyAccounts.size > 0 ||
      this.dirtyRaw.size > 0 ||
      this.dirtyStorage.size > 0
    ) {
      return undefined
    }
    return this.tree.root()
  }

  /** Open checkpoints. */
  get depth(): number {
    return this.journal.length
  }

  async root(): Promise<Uint8Array> {
    if (this.journal.length > 0) {
      throw new LedgerError(
        LedgerErrorCode.CHECKPOINT,
        `root() with ${this.journal.length} open checkpoint(s): commit or revert them first`,
      )
    }
    // 1. contract storage tries (sorted: deterministic order of work)
    for (const ck of [...this.dirtyStorage.keys()].sort()) {
      const keys = this.dirtyStorage.get(ck) as Set<string>
      if (keys.size === 0) continue
      const contract = fromHexKey(ck)
      const tree = (await this.storageTree(contract, ck)) as StateTree
      const m = this.storage.get(ck) as Map<string, Uint8Array | null>
      const ops: { type: 'put' | 'del'; key: Uint8Array; value?: Uint8Array }[] = []
      for (const kk of [...keys].sort()) {
        const v = m.get(kk)
        ops.push(
          v === null || v === undefined
            ? { type: 'del', key: fromHexKey(kk) }
            : { type: 'put', key: fromHexKey(kk), value: rlpEncode(v) },
        )
      }
      await tree.batch(ops)
      const storageRoot = tree.root()
      const acc = (await this.loadAccount(contract, ck)) ?? emptyAccount()
      if (!equalBytesFast(acc.storageRoot, storageRoot)) {
        const next = cloneAccount(acc)
        next.storageRoot = storageRoot
        this.setAccount(ck, isEmptyAccount(next) ? null : next)
      }
    }
    this.dirtyStorage.clear()
    // 2. accounts and reserved records, once each
    const ops: { type: 'put' | 'del'; key: Uint8Array; value?: Uint8Array }[] = []
    for (const k of this.dirtyAccounts) {
      const a = this.accounts.get(k)
      ops.push(
        a
          ? { type: 'put', key: fromHexKey(k), value: encodeAccount(a) }
          : { type: 'del', key: fromHexKey(k) },
      )
    }
    for (const k of this.dirtyRaw) {
      const v = this.raw.get(k)
      ops.push(
        v ? { type: 'put', key: fromHexKey(k), value: v } : { type: 'del', key: fromHexKey(k) },
      )
    }
    this.dirtyAccounts.clear()
    this.dirtyRaw.clear()
    if (ops.length > 0) await this.tree.batch(ops)
    return this.tree.root()
  }

  async flush(): Promise<BatchOp[]> {
    await this.root()
    const ops: BatchOp[] = [...this.tree.flush()]
    for (const ck of [...this.storageTrees.keys()].sort()) {
      ops.push(...(this.storageTrees.get(ck) as StateTree).flush())
    }
    for (const [k, code] of [...this.pendingCode.entries()].sort((a, b) =>
      a[0] < b[0] ? -1 : 1,
    )) {
      ops.push({ type: 'put', key: fromHexKey(k), value: code, namespace: [CODE_NAMESPACE] })
      this.codeCache.set(k, code)
    }
    this.pendingCode.clear()
    // clean records stay cached across blocks (hot accounts), within a bound
    if (this.accounts.size > MAX_CACHED_ACCOUNTS) this.clearCache()
    return ops
  }

  /** Drops caches of clean data (keeps nothing pending); call between blocks to bound memory. */
  clearCache(): void {
    if (this.dirtyAccounts.size || this.dirtyRaw.size || this.dirtyStorage.size) return
    this.accounts.clear()
    this.raw.clear()
    this.storage.clear()
    this.storageTrees.clear()
  }

  /** Number of cached accounts. */
  get cachedAccounts(): number {
    return this.accounts.size
  }

  async setRoot(root: Uint8Array): Promise<void> {
    await this.tree.setRoot(root)
    this.accounts.clear()
    this.dirtyAccounts.clear()
    this.raw.clear()
    this.dirtyRaw.clear()
    this.storage.clear()
    this.dirtyStorage.clear()
    this.storageTrees.clear()
    this.journal = []
  }

  async copy(root?: Uint8Array): Promise<LedgerWorldState> {
    const r = root ?? (await this.root())
    const tree = this.tree.copy(r)
    const s = new LedgerWorldState(this.db, tree)
    for (const [k, v] of this.pendingCode) s.pendingCode.set(k, v)
    for (const [k, v] of this.codeCache) s.codeCache.set(k, v)
    return s
  }
}
