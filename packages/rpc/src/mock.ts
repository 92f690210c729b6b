/**
 * MockRPCBackend: an in-memory chain for tests, examples and UI work. It is NOT the ledger:
 * transactions are JSON (`encodeMockTransaction`), hashes are sha256 of those bytes, blocks are
 * made by `mine()`, and only transfers move balances. A real node wires ledger, runtime,
 * consensus and p2p into its own `RPCBackend`.
 */
import { createHash } from 'node:crypto'
import type { Account, BlockHeader, Receipt, Transaction, ValidatorSet } from '@aureon/ledger'
import { RPCError } from './errors.js'
import { toHex } from './json.js'
import type {
  RPCAccountProof,
  RPCBackend,
  RPCBlockData,
  RPCCallRequest,
  RPCCallResult,
  RPCContractInfo,
  RPCEstimateRequest,
  RPCEstimateResult,
  RPCEventSource,
  RPCHealth,
  RPCNewBlockEvent,
  RPCPeer,
  RPCSubmitResult,
  RPCTxData,
  RPCTxLookup,
  RPCTxStatusEvent,
} from './types.js'

const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
const ZERO32 = new Uint8Array(32)
const EMPTY_HASH = sha()
const hexKey = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** Serializes a transaction for the mock (JSON; bigints as strings, bytes as hex). */
export function encodeMockTransaction(tx: Transaction): Uint8Array {
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(tx)) {
    o[k] = typeof v === 'bigint' ? `n:${v}` : v instanceof Uint8Array ? `b:${toHex(v)}` : v
  }
  return new TextEncoder().encode(JSON.stringify(o))
}

function decodeMockTransaction(bytes: Uint8Array): Transaction {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw new RPCError('ERR_DECODE', 'transaction bytes do not decode (mock: JSON expected)')
  }
  if (typeof o !== 'object' || o === null || typeof o.kind !== 'number') {
    throw new RPCError(
      'ERR_DECODE',
      'transaction bytes do not decode (mock: object with kind expected)',
    )
  }
  const tx: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string' && v.startsWith('n:')) tx[k] = BigInt(v.slice(2))
    else if (typeof v === 'string' && v.startsWith('b:'))
      tx[k] = new Uint8Array(Buffer.from(v.slice(4), 'hex'))
    else tx[k] = v
  }
  for (const f of ['chainId', 'nonce', 'gasPrice', 'gasLimit']) {
    if (typeof tx[f] !== 'bigint')
      throw new RPCError('ERR_DECODE', `transaction field ${f} missing`)
  }
  if (!(tx.senderPublicKey instanceof Uint8Array) || !(tx.signature instanceof Uint8Array)) {
    throw new RPCError('ERR_DECODE', 'transaction signature fields missing')
  }
  return tx as unknown as Transaction
}

/** The mock's sender address of a public key: sha256(pk)[0..20]. */
export function mockAddress(publicKey: Uint8Array): Uint8Array {
  return sha(publicKey).slice(0, 20)
}

export function emptyMockAccount(): Account {
  return {
    nonce: 0n,
    balance: 0n,
    stake: 0n,
    codeHash: EMPTY_HASH,
    storageRoot: ZERO32,
    unbonding: [],
  }
}

interface MockContract {
  info: RPCContractInfo
  storage: Map<string, Uint8Array>
}

export interface MockRPCBackendOptions {
  chainId?: bigint
  /** Genesis timestamp (ms). */
  timestamp?: bigint
  /** Answers read-only calls (default: echo the args, status Success, 100 gas). */
  call?: (req: RPCCallRequest) => Promise<RPCCallResult> | RPCCallResult
}

/**
 * An in-memory RPCBackend.
 * @example
 * const backend = new MockRPCBackend()
 * backend.setAccount(addr, { balance: 1000n })
 * await backend.mine()
 */
export class MockRPCBackend implements RPCBackend {
  readonly chainId: bigint
  readonly blocks: RPCBlockData[] = []
  readonly receipts = new Map<string, Receipt>()
  readonly pool = new Map<string, RPCTxData>()
  readonly accounts = new Map<string, Account>()
  readonly contracts = new Map<string, MockContract>()
  peers: RPCPeer[] = []
  health: RPCHealth = { ok: true, syncing: false, peers: 0 }
  validators: ValidatorSet = { epoch: 0n, validators: [], totalStake: 0n }
  /** Delay (ms) added to every read, to test timeouts. */
  delayMs = 0
  private readonly blockListeners = new Set<(e: RPCNewBlockEvent) => void>()
  private readonly txListeners = new Set<(e: RPCTxStatusEvent) => void>()
  private readonly byHash = new Map<string, RPCBlockData>()
  private readonly txIndex = new Map<string, { block: RPCBlockData; index: number }>()
  private readonly callFn: NonNullable<MockRPCBackendOptions['call']>
  readonly events: RPCEventSource

  constructor(opts: MockRPCBackendOptions = {}) {
    this.chainId = opts.chainId ?? 1n
    this.callFn =
      opts.call ??
      ((req) => ({ status: 'Success', gasUsed: 100n, output: req.args, logs: [], debugLogs: [] }))
    this.events = {
      onBlock: (l) => {
        this.blockListeners.add(l)
        return () => this.blockListeners.delete(l)
      },
      onTxStatus: (l) => {
        this.txListeners.add(l)
        return () => this.txListeners.delete(l)
      },
    }
    this.commit(this.makeHeader(new Uint8Array(), opts.timestamp ?? 1_700_000_000_000n), [], [])
  }

  private makeHeader(txBytes: Uint8Array, timestamp?: bigint): BlockHeader {
    const parent = this.blocks.at(-1)
    return {
      chainId: this.chainId,
      height: parent ? parent.header.height + 1n : 0n,
      parentHash: parent ? parent.hash : ZERO32,
      timestamp: timestamp ?? (parent ? parent.header.timestamp + 1000n : 0n),
      proposer: new Uint8Array(20).fill(0xaa),
      stateRoot: sha(txBytes, new TextEncoder().encode('state')),
      txRoot: sha(txBytes),
      receiptsRoot: sha(txBytes, new TextEncoder().encode('receipts')),
      gasUsed: 0n,
      gasLimit: 30_000_000n,
      consensus: new Uint8Array(),
    }
  }

  private commit(header: BlockHeader, txs: RPCTxData[], receipts: Receipt[]): RPCBlockData {
    const hash = sha(new TextEncoder().encode(`${header.height}`), header.parentHash, header.txRoot)
    const block: RPCBlockData = { hash, header, transactions: txs }
    this.blocks.push(block)
    this.byHash.set(hexKey(hash), block)
    txs.forEach((t, index) => {
      this.txIndex.set(hexKey(t.hash), { block, index })
    })
    for (const r of receipts) this.receipts.set(hexKey(r.txHash), r)
    return block
  }

  private async wait(): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs))
  }

  /** Sets (part of) an account. */
  setAccount(address: Uint8Array, a: Partial<Account>): void {
    this.accounts.set(hexKey(address), {
      ...(this.accounts.get(hexKey(address)) ?? emptyMockAccount()),
      ...a,
    })
  }

  /** Registers a contract with optional storage. */
  setContract(
    address: Uint8Array,
    info: Partial<RPCContractInfo> & { code?: Uint8Array },
    storage: [Uint8Array, Uint8Array][] = [],
  ): void {
    const code = info.code ?? new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])
    this.contracts.set(hexKey(address), {
      info: {
        codeHash: info.codeHash ?? sha(code),
        codeSize: info.codeSize ?? code.length,
        exports: info.exports ?? [],
        balance: info.balance ?? 0n,
        deployer: info.deployer,
        deployHeight: info.deployHeight,
        deployTx: info.deployTx,
      },
      storage: new Map(storage.map(([k, v]) => [hexKey(k), v])),
    })
    this.setAccount(address, { codeHash: info.codeHash ?? sha(code) })
  }

  /**
   * Makes a block of the pool's transactions (or of `extra` receipts' logs) and announces it.
   * Transfers move balances; every transaction gets a Success receipt unless `fail` names it.
   */
  async mine(
    opts: { timestamp?: bigint; fail?: Set<string>; logs?: Receipt['logs'] } = {},
  ): Promise<RPCBlockData> {
    const txs = [...this.pool.values()]
    this.pool.clear()
    const height = (this.blocks.at(-1)?.header.height ?? -1n) + 1n
    const receipts: Receipt[] = txs.map((t, index) => {
      const failed = opts.fail?.has(toHex(t.hash)) ?? false
      const from = this.accounts.get(hexKey(t.sender)) ?? emptyMockAccount()
      const changes: Receipt['balanceChanges'] = []
      from.nonce = t.tx.nonce + 1n
      if (!failed && t.tx.kind === 0) {
        from.balance -= t.tx.amount
        const to = this.accounts.get(hexKey(t.tx.to)) ?? emptyMockAccount()
        to.balance += t.tx.amount
        this.accounts.set(hexKey(t.tx.to), to)
        changes.push({ address: t.tx.to, balance: to.balance })
      }
      this.accounts.set(hexKey(t.sender), from)
      changes.unshift({ address: t.sender, balance: from.balance })
      return {
        txHash: t.hash,
        blockHeight: height,
        index,
        status: failed ? 'Reverted' : 'Success',
        gasUsed: 21_000n,
        gasPrice: t.tx.gasPrice,
        fee: 21_000n * t.tx.gasPrice,
        output: new Uint8Array(),
        logs: index === 0 && opts.logs ? opts.logs : [],
        debugLogs: [],
        ...(failed ? { error: { code: 'ERR_REVERTED', message: 'mock failure' } } : {}),
        balanceChanges: changes,
      }
    })
    const enc = new TextEncoder().encode(txs.map((t) => toHex(t.hash)).join(','))
    const header = this.makeHeader(enc, opts.timestamp)
    header.gasUsed = BigInt(txs.length) * 21_000n
    const block = this.commit(header, txs, receipts)
    const event = { block, receipts }
    for (const l of [...this.blockListeners]) l(event)
    return block
  }

  /** Announces a pool status change. */
  emitTxStatus(e: RPCTxStatusEvent): void {
    for (const l of [...this.txListeners]) l(e)
  }

  async getHead(): Promise<{ header: BlockHeader; hash: Uint8Array }> {
    await this.wait()
    const b = this.blocks.at(-1)!
    return { header: b.header, hash: b.hash }
  }

  async getBlockByHeight(height: bigint): Promise<RPCBlockData | undefined> {
    await this.wait()
    return height < BigInt(this.blocks.length) ? this.blocks[Number(height)] : undefined
  }

  async getBlockByHash(hash: Uint8Array): Promise<RPCBlockData | undefined> {
    await this.wait()
    return this.byHash.get(hexKey(hash))
  }

  async getTransaction(hash: Uint8Array): Promise<RPCTxLookup | undefined> {
    await this.wait()
    const k = hexKey(hash)
    const pending = this.pool.get(k)
    if (pending) return { tx: pending }
    const at = this.txIndex.get(k)
    if (!at) return undefined
    return {
      tx: at.block.transactions[at.index],
      location: { blockHeight: at.block.header.height, blockHash: at.block.hash, index: at.index },
      receipt: this.receipts.get(k),
    }
  }

  decodeTransaction(bytes: Uint8Array): RPCTxData {
    const tx = decodeMockTransaction(bytes)
    return { tx, hash: sha(bytes), sender: mockAddress(tx.senderPublicKey) }
  }

  async submitTransaction(t: RPCTxData): Promise<RPCSubmitResult> {
    if (t.tx.chainId !== this.chainId) {
      throw new RPCError('ERR_WRONG_CHAIN_ID', `chain id ${t.tx.chainId}, expected ${this.chainId}`)
    }
    const k = hexKey(t.hash)
    if (this.pool.has(k) || this.txIndex.has(k))
      throw new RPCError('ERR_ALREADY_KNOWN', 'transaction already known')
    const acct = this.accounts.get(hexKey(t.sender)) ?? emptyMockAccount()
    if (t.tx.nonce < acct.nonce) {
      throw new RPCError(
        'ERR_NONCE_TOO_LOW',
        `nonce ${t.tx.nonce} is below the account nonce ${acct.nonce}`,
        {
          details: { expected: acct.nonce.toString() },
        },
      )
    }
    this.pool.set(k, t)
    this.emitTxStatus({ hash: t.hash, status: 'pending' })
    return { hash: t.hash, status: 'pending' }
  }

  contractAddress(deployer: Uint8Array, nonce: bigint): Uint8Array {
    return sha(
      new TextEncoder().encode('aureon/contract'),
      deployer,
      new TextEncoder().encode(nonce.toString()),
    ).slice(0, 20)
  }

  async getAccount(address: Uint8Array): Promise<{ account: Account; isContract: boolean }> {
    await this.wait()
    return {
      account: this.accounts.get(hexKey(address)) ?? emptyMockAccount(),
      isContract: this.contracts.has(hexKey(address)),
    }
  }

  async getAccountProof(address: Uint8Array): Promise<RPCAccountProof> {
    const head = this.blocks.at(-1)!
    const account = this.accounts.get(hexKey(address))
    return {
      stateRoot: head.header.stateRoot,
      height: head.header.height,
      account: account ?? emptyMockAccount(),
      exists: account !== undefined,
      proof: [sha(head.header.stateRoot, address)],
    }
  }

  async callContract(req: RPCCallRequest): Promise<RPCCallResult> {
    await this.wait()
    return this.callFn(req)
  }

  async getContract(address: Uint8Array): Promise<RPCContractInfo | undefined> {
    await this.wait()
    return this.contracts.get(hexKey(address))?.info
  }

  async getContractStorage(address: Uint8Array, key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.contracts.get(hexKey(address))?.storage.get(hexKey(key))
  }

  async estimateGas(req: RPCEstimateRequest): Promise<RPCEstimateResult> {
    const base = req.kind === 1 ? 53_000n : req.kind >= 3 ? 50_000n : 21_000n
    const data = BigInt((req.code?.length ?? 0) + (req.args?.length ?? 0)) * 16n
    return { gas: base + data + (req.kind === 2 ? 100n : 0n), status: 'Success' }
  }

  async getValidators(): Promise<ValidatorSet> {
    return this.validators
  }

  async getPeers(): Promise<RPCPeer[]> {
    return this.peers
  }

  async getHealth(): Promise<RPCHealth> {
    return { ...this.health, peers: this.peers.length }
  }
}
