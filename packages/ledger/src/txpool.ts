/**
 * TxPool: pending transactions by sender and nonce, chosen for blocks by gas price.
 *
 * - Per sender, a nonce queue: a transaction is *pending* when every nonce from the account's
 *   nonce up to it is present, *queued* otherwise.
 * - The same (sender, nonce) is replaced only by a price at least 10% higher.
 * - Limits: total count, per sender, total bytes. When full, the lowest-priced transaction (and
 *   the later nonces of its sender, which it would leave stranded) is evicted if the newcomer pays
 *   more; otherwise the newcomer is refused (ERR_POOL_FULL).
 * - `onNewHead` drops included and stale transactions and re-checks the rest against the new
 *   state (nonce, balance).
 */

import { toHexKey } from './codec.js'
import { LedgerError, LedgerErrorCode } from './errors.js'
import { defaultLedgerParams, defaultTxPoolLimits } from './params.js'
import {
  encodeTransaction,
  maxCost,
  transactionHash,
  transactionSender,
  validateTransactionStateless,
} from './tx.js'
import type {
  Account,
  BatchVerifier,
  LedgerParams,
  Transaction,
  TxPoolAddResult,
  TxPoolInterface,
  TxPoolOptions,
  TxPoolSelectOptions,
} from './types.js'
import { mainThreadVerifier, verifyTransactionSignatures } from './verify.js'

interface Entry {
  tx: Transaction
  hash: Uint8Array
  key: string
  sender: string
  nonce: bigint
  price: bigint
  gas: bigint
  size: number
  cost: bigint
  seq: number
}

interface SenderQueue {
  address: Uint8Array
  nonce: bigint
  balance: bigint
  txs: Map<bigint, Entry>
}

/** Binary heap with a comparison; `less(a, b)` true when a comes out first. */
class Heap<T> {
  private a: T[] = []
  constructor(private readonly less: (x: T, y: T) => boolean) {}
  get size(): number {
    return this.a.length
  }
  push(x: T): void {
    const a = this.a
    a.push(x)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(a[i], a[p])) break
      ;[a[i], a[p]] = [a[p], a[i]]
      i = p
    }
  }
  peek(): T | undefined {
    return this.a[0]
  }
  pop(): T | undefined {
    const a = this.a
    if (a.length === 0) return undefined
    const top = a[0]
    const last = a.pop() as T
    if (a.length > 0) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && this.less(a[l], a[m])) m = l
        if (r < a.length && this.less(a[r], a[m])) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m], a[i]]
        i = m
      }
    }
    return top
  }
}

/**
 * Creates a transaction pool.
 * @example
 * const pool = createTxPool({ chainId: 1n, getAccount: (a) => state.getAccount(a) })
 * await pool.add(tx)
 * const txs = pool.select({ maxGas: 30_000_000n })
 */
export function createTxPool(opts: TxPoolOptions): TxPool {
  return new TxPool(opts)
}

export class TxPool implements TxPoolInterface {
  private readonly byHash = new Map<string, Entry>()
  private readonly senders = new Map<string, SenderQueue>()
  /** Lowest price first (eviction); lazy: entries may be stale. */
  private readonly cheapest = new Heap<Entry>((x, y) =>
    x.price === y.price ? x.seq > y.seq : x.price < y.price,
  )
  private seq = 0
  private totalBytes = 0
  private readonly params: LedgerParams
  private readonly limits: {
    maxCount: number
    maxPerSender: number
    maxBytes: number
    maxNonceGap: bigint
  }
  private readonly verifier: BatchVerifier
  private readonly getAccount: (address: Uint8Array) => Promise<Account>

  constructor(private readonly opts: TxPoolOptions) {
    this.params = { ...defaultLedgerParams, ...opts.params }
    this.limits = {
      maxCount: opts.maxCount ?? defaultTxPoolLimits.maxCount,
      maxPerSender: opts.maxPerSender ?? defaultTxPoolLimits.maxPerSender,
      maxBytes: opts.maxBytes ?? defaultTxPoolLimits.maxBytes,
      maxNonceGap: opts.maxNonceGap ?? defaultTxPoolLimits.maxNonceGap,
    }
    this.verifier = opts.verifier ?? mainThreadVerifier
    this.getAccount = opts.getAccount
  }

  get size(): number {
    return this.byHash.size
  }

  get bytes(): number {
    return this.totalBytes
  }

  has(hash: Uint8Array): boolean {
    return this.byHash.has(toHexKey(hash))
  }

  get(hash: Uint8Array): Transaction | undefined {
    return this.byHash.get(toHexKey(hash))?.tx
  }

  /**
   * Adds a transaction, or throws a LedgerError naming why it was refused.
   * @example
   * try { await pool.add(tx) } catch (e) { if (isLedgerError(e)) console.log(e.code) }
   */
  async add(tx: Transaction): Promise<TxPoolAddResult> {
    const [r] = await this.addMany([tx])
    if (r instanceof Error) throw r
    return r
  }

  /**
   * Adds many transactions, checking their signatures in one batch. Returns, per transaction,
   * its result or the LedgerError that refused it.
   */
  async addMany(txs: Transaction[]): Promise<(TxPoolAddResult | LedgerError)[]> {
    const out: (TxPoolAddResult | LedgerError)[] = new Array(txs.length)
    const ok: number[] = []
    for (let i = 0; i < txs.length; i++) {
      try {
        const tx = txs[i]
        if (this.byHash.has(toHexKey(transactionHash(tx)))) {
          throw new LedgerError(LedgerErrorCode.ALREADY_KNOWN, 'transaction is already in the pool')
        }
        validateTransactionStateless(tx, {
          chainId: this.opts.chainId,
          blockGasLimit: this.params.blockGasLimit,
          minGasPrice: this.params.minGasPrice,
        })
        ok.push(i)
      } catch (e) {
        out[i] = toLedgerError(e)
      }
    }
    const invalid = await verifyTransactionSignatures(
      this.verifier,
      ok.map((i) => txs[i]),
    )
    const bad = new Set(invalid.map((j) => ok[j]))
    for (const i of ok) {
      if (bad.has(i)) {
        out[i] = new LedgerError(LedgerErrorCode.BAD_SIGNATURE, 'the signature does not verify')
        continue
      }
      try {
        out[i] = await this.insert(txs[i])
      } catch (e) {
        out[i] = toLedgerError(e)
      }
    }
    return out
  }

  private async senderQueue(address: Uint8Array, key: string): Promise<SenderQueue> {
    let q = this.senders.get(key)
    if (!q) {
      const acc = await this.getAccount(address)
      q = this.senders.get(key)
      if (!q) {
        q = { address, nonce: acc.nonce, balance: acc.balance, txs: new Map() }
        this.senders.set(key, q)
      }
    }
    return q
  }

  private async insert(tx: Transaction): Promise<TxPoolAddResult> {
    const senderAddr = transactionSender(tx)
    const sk = toHexKey(senderAddr)
    const q = await this.senderQueue(senderAddr, sk)
    try {
      return this.insertInto(q, tx)
    } finally {
      if (q.txs.size === 0) this.senders.delete(sk)
    }
  }

  private insertInto(q: SenderQueue, tx: Transaction): TxPoolAddResult {
    const hash = transactionHash(tx)
    const key = toHexKey(hash)
    if (this.byHash.has(key)) {
      throw new LedgerError(LedgerErrorCode.ALREADY_KNOWN, 'transaction is already in the pool')
    }
    const sk = toHexKey(q.address)
    if (tx.nonce < q.nonce) {
      throw new LedgerError(
        LedgerErrorCode.NONCE_TOO_LOW,
        `nonce ${tx.nonce} is below the account nonce ${q.nonce}`,
      )
    }
    if (tx.nonce > q.nonce + this.limits.maxNonceGap) {
      throw new LedgerError(
        LedgerErrorCode.NONCE_GAP,
        `nonce ${tx.nonce} is more than ${this.limits.maxNonceGap} ahead of the account nonce ${q.nonce}`,
      )
    }
    const cost = maxCost(tx)
    if (cost > q.balance) {
      throw new LedgerError(
        LedgerErrorCode.INSUFFICIENT_BALANCE,
        `balance ${q.balance} does not cover value + gasLimit x gasPrice = ${cost}`,
      )
    }
    const size = encodeTransaction(tx).length
    const e: Entry = {
      tx,
      hash,
      key,
      sender: sk,
      nonce: tx.nonce,
      price: tx.gasPrice,
      gas: tx.gasLimit,
      size,
      cost,
      seq: this.seq++,
    }
    const old = q.txs.get(tx.nonce)
    let replaced: Uint8Array | undefined
    if (old) {
      const min = old.price + (old.price * defaultTxPoolLimits.replacementBumpPercent + 99n) / 100n
      if (tx.gasPrice < min || tx.gasPrice === old.price) {
        throw new LedgerError(
          LedgerErrorCode.REPLACEMENT_UNDERPRICED,
          `a transaction with nonce ${tx.nonce} is pending at price ${old.price}: a replacement needs at least ${min > old.price ? min : old.price + 1n}`,
        )
      }
      this.removeEntry(old)
      replaced = old.hash
    } else if (q.txs.size >= this.limits.maxPerSender) {
      throw new LedgerError(
        LedgerErrorCode.SENDER_LIMIT,
        `sender already has ${q.txs.size} transactions in the pool (limit ${this.limits.maxPerSender})`,
      )
    }
    const evicted: Entry[] = []
    // the queues of the evicted entries, to put them back if the newcomer is refused after all
    const queues = new Map<string, SenderQueue>()
    while (
      this.byHash.size + 1 > this.limits.maxCount ||
      this.totalBytes + size > this.limits.maxBytes
    ) {
      const low = this.peekCheapest()
      if (!low || low.price >= tx.gasPrice) {
        // refused: put back what this attempt removed
        for (const x of evicted) this.addEntry(queues.get(x.sender) as SenderQueue, x)
        if (old) this.addEntry(q, old)
        throw new LedgerError(
          LedgerErrorCode.POOL_FULL,
          `the pool is full (${this.byHash.size} transactions, ${this.totalBytes} bytes) and its cheapest transaction pays ${low?.price ?? 0n}: pay more to enter`,
        )
      }
      const lq = this.senders.get(low.sender)
      if (lq) queues.set(low.sender, lq)
      for (const x of this.evict(low)) evicted.push(x)
    }
    this.addEntry(q, e)
    const res: TxPoolAddResult = {
      hash,
      status: this.isPending(q, tx.nonce) ? 'pending' : 'queued',
    }
    if (replaced) {
      res.status = 'replaced'
      res.replaced = replaced
    }
    if (evicted.length) res.evicted = evicted.map((x) => x.hash)
    return res
  }

  private isPending(q: SenderQueue, nonce: bigint): boolean {
    for (let n = q.nonce; n <= nonce; n++) if (!q.txs.has(n)) return false
    return true
  }

  private addEntry(q: SenderQueue, e: Entry): void {
    q.txs.set(e.nonce, e)
    this.senders.set(e.sender, q)
    this.byHash.set(e.key, e)
    this.totalBytes += e.size
    this.cheapest.push(e)
  }

  private removeEntry(e: Entry): void {
    const q = this.senders.get(e.sender)
    if (q?.txs.get(e.nonce) === e) {
      q.txs.delete(e.nonce)
      if (q.txs.size === 0) this.senders.delete(e.sender)
    }
    if (this.byHash.get(e.key) === e) {
      this.byHash.delete(e.key)
      this.totalBytes -= e.size
    }
  }

  private peekCheapest(): Entry | undefined {
    for (;;) {
      const top = this.cheapest.peek()
      if (!top) return undefined
      if (this.byHash.get(top.key) === top) return top
      this.cheapest.pop()
    }
  }

  /** Evicts `e` and the later nonces of its sender. */
  private evict(e: Entry): Entry[] {
    const q = this.senders.get(e.sender)
    const out: Entry[] = []
    if (q) {
      for (const x of [...q.txs.values()]) {
        if (x.nonce >= e.nonce) {
          this.removeEntry(x)
          out.push(x)
        }
      }
    }
    return out
  }

  remove(hash: Uint8Array): boolean {
    const e = this.byHash.get(toHexKey(hash))
    if (!e) return false
    this.removeEntry(e)
    return true
  }

  /**
   * Executable transactions, highest price first, in nonce order per sender, within the limits.
   * @example
   * const txs = pool.select({ maxGas: 30_000_000n, maxCount: 1000 })
   */
  select(opts: TxPoolSelectOptions = {}): Transaction[] {
    const maxCount = opts.maxCount ?? Number.POSITIVE_INFINITY
    let gasLeft = opts.maxGas ?? this.params.blockGasLimit
    let bytesLeft = opts.maxBytes ?? Number.POSITIVE_INFINITY
    const heads = new Heap<Entry>((x, y) =>
      x.price === y.price ? x.seq < y.seq : x.price > y.price,
    )
    for (const q of this.senders.values()) {
      const e = q.txs.get(q.nonce)
      if (e) heads.push(e)
    }
    const out: Transaction[] = []
    const spent = new Map<string, bigint>()
    while (out.length < maxCount && heads.size > 0) {
      const e = heads.pop() as Entry
      if (e.gas > gasLeft || e.size > bytesLeft) continue // sender's later nonces wait
      const q = this.senders.get(e.sender) as SenderQueue
      const s = (spent.get(e.sender) ?? 0n) + e.cost
      if (s > q.balance) continue
      spent.set(e.sender, s)
      out.push(e.tx)
      gasLeft -= e.gas
      bytesLeft -= e.size
      const next = q.txs.get(e.nonce + 1n)
      if (next) heads.push(next)
    }
    return out
  }

  /** Pending (executable) and queued counts. */
  stats(): { pending: number; queued: number; senders: number } {
    let pending = 0
    for (const q of this.senders.values()) {
      for (let n = q.nonce; q.txs.has(n); n++) pending++
    }
    return { pending, queued: this.byHash.size - pending, senders: this.senders.size }
  }

  /**
   * After a new head: drops the included transactions, refreshes each sender's nonce and balance
   * from `getAccount` (the new head state) and drops what became invalid.
   * @example
   * await pool.onNewHead({ included: block.transactions })
   */
  async onNewHead(opts: { included?: Transaction[] } = {}): Promise<{ removed: number }> {
    let removed = 0
    for (const tx of opts.included ?? []) if (this.remove(transactionHash(tx))) removed++
    for (const [sk, q] of [...this.senders.entries()]) {
      const acc = await this.getAccount(q.address)
      q.nonce = acc.nonce
      q.balance = acc.balance
      for (const e of [...q.txs.values()]) {
        if (e.nonce < q.nonce || e.cost > q.balance) {
          this.removeEntry(e)
          removed++
        }
      }
      if (q.txs.size === 0) this.senders.delete(sk)
    }
    return { removed }
  }
}

function toLedgerError(e: unknown): LedgerError {
  if (e instanceof LedgerError) return e
  return new LedgerError(
    LedgerErrorCode.INVALID_FIELD,
    e instanceof Error ? e.message : String(e),
    {
      cause: e,
    },
  )
}
