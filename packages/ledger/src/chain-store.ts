/**
 * ChainStore: blocks by height and hash, receipts, the tx index and the head, over a KVStore.
 * Layout (namespace `chain` under the root store; state trie nodes and code under `state`):
 *
 *   'H' || u64be(height) -> block hash        'B' || hash -> encodeBlock(block)
 *   'R' || hash -> RLP([receipt, ...])        'T' || txHash -> RLP([height, index, blockHash])
 *   'head' -> block hash
 *
 * `commitBlock` writes all of that AND the state's trie nodes in ONE atomic batch: after a crash
 * the store holds the previous block or the new one, never a mix.
 */
import type { BatchOp, KVStore } from '@aureon/storage'
import { blockHash, decodeBlock, decodeReceipt, encodeBlock, encodeReceipt } from './block.js'
import {
  bigintToBytes,
  decodeSmall,
  decodeUint,
  expectAnyList,
  expectBytes,
  expectList,
  rlpDecodeStrict,
  rlpEncode,
} from './codec.js'
import { LedgerError, LedgerErrorCode } from './errors.js'
import { MAX_BLOCK_SIZE } from './params.js'
import { transactionHash } from './tx.js'
import type {
  Block,
  BlockHeader,
  ChainStoreInterface,
  ChainStoreOptions,
  CommitBlockInput,
  Receipt,
  Transaction,
  TxLocation,
} from './types.js'

export const CHAIN_NAMESPACE = 'chain'
export const STATE_NAMESPACE = 'state'
const HEAD_KEY = new TextEncoder().encode('head')

function prefixed(p: string, b: Uint8Array): Uint8Array {
  const k = new Uint8Array(1 + b.length)
  k[0] = p.charCodeAt(0)
  k.set(b, 1)
  return k
}

function heightKey(h: bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, h)
  return prefixed('H', b)
}

/**
 * Opens a chain store over a root KVStore.
 * @example
 * const chain = await openChainStore({ db: createMemoryStore() })
 * const state = await createWorldState({ db: chain.stateDb, root: chain.head()?.stateRoot })
 */
export async function openChainStore(opts: ChainStoreOptions): Promise<ChainStore> {
  const s = new ChainStore(opts.db)
  await s.load()
  return s
}

export class ChainStore implements ChainStoreInterface {
  readonly stateDb: KVStore
  private readonly chainDb: KVStore
  private headHeader?: BlockHeader
  private headBlockHash?: Uint8Array

  constructor(readonly db: KVStore) {
    this.stateDb = db.namespace(STATE_NAMESPACE)
    this.chainDb = db.namespace(CHAIN_NAMESPACE)
  }

  /** Reads the head from the store. */
  async load(): Promise<void> {
    const h = await this.chainDb.get(HEAD_KEY)
    if (!h) return
    const b = await this.getBlockByHash(h)
    if (!b) throw new LedgerError(LedgerErrorCode.STORE, 'head block missing from the store')
    this.headHeader = b.header
    this.headBlockHash = h
  }

  head(): BlockHeader | undefined {
    return this.headHeader
  }

  headHash(): Uint8Array | undefined {
    return this.headBlockHash
  }

  async getBlockByHash(hash: Uint8Array): Promise<Block | undefined> {
    const b = await this.chainDb.get(prefixed('B', hash))
    return b ? decodeBlock(b) : undefined
  }

  async getBlockHash(height: bigint): Promise<Uint8Array | undefined> {
    return this.chainDb.get(heightKey(height))
  }

  async getBlockByHeight(height: bigint): Promise<Block | undefined> {
    const h = await this.getBlockHash(height)
    return h ? this.getBlockByHash(h) : undefined
  }

  async getHeader(height: bigint): Promise<BlockHeader | undefined> {
    return (await this.getBlockByHeight(height))?.header
  }

  async getReceipts(height: bigint): Promise<Receipt[] | undefined> {
    const h = await this.getBlockHash(height)
    if (!h) return undefined
    const r = await this.chainDb.get(prefixed('R', h))
    if (!r) return undefined
    return expectAnyList(rlpDecodeStrict(r, MAX_BLOCK_SIZE * 4, 'receipts'), 'receipts').map((x) =>
      decodeReceipt(expectBytes(x, 'receipt')),
    )
  }

  async getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const v = await this.chainDb.get(prefixed('T', txHash))
    if (!v) return undefined
    const f = expectList(rlpDecodeStrict(v, 1024, 'tx location'), 3, 'tx location')
    return {
      blockHeight: decodeUint(f[0], 'height'),
      index: decodeSmall(f[1], 'index'),
      blockHash: expectBytes(f[2], 'blockHash', { length: 32 }),
    }
  }

  async getReceipt(txHash: Uint8Array): Promise<Receipt | undefined> {
    const loc = await this.getTxLocation(txHash)
    if (!loc) return undefined
    return (await this.getReceipts(loc.blockHeight))?.[loc.index]
  }

  async getTransaction(txHash: Uint8Array): Promise<Transaction | undefined> {
    const loc = await this.getTxLocation(txHash)
    if (!loc) return undefined
    return (await this.getBlockByHash(loc.blockHash))?.transactions[loc.index]
  }

  /**
   * The ops `commitBlock` writes (exposed for tests and for callers that add their own ops to
   * the same atomic batch).
   */
  commitOps(input: CommitBlockInput): BatchOp[] {
    const { block, receipts, stateOps } = input
    const h = block.header
    if (receipts.length !== block.transactions.length) {
      throw new LedgerError(
        LedgerErrorCode.BAD_BLOCK,
        `${receipts.length} receipts for ${block.transactions.length} transactions`,
      )
    }
    if (this.headHeader) {
      if (h.height !== this.headHeader.height + 1n) {
        throw new LedgerError(
          LedgerErrorCode.BAD_PARENT,
          `block ${h.height} does not follow the head ${this.headHeader.height}`,
        )
      }
    }
    const hash = blockHash(h)
    const ns = [CHAIN_NAMESPACE]
    const ops: BatchOp[] = stateOps.map((op) => ({
      ...op,
      namespace: [STATE_NAMESPACE, ...(op.namespace ?? [])],
    }))
    ops.push({ type: 'put', namespace: ns, key: prefixed('B', hash), value: encodeBlock(block) })
    ops.push({
      type: 'put',
      namespace: ns,
      key: prefixed('R', hash),
      value: rlpEncode(receipts.map(encodeReceipt)),
    })
    block.transactions.forEach((tx, i) => {
      ops.push({
        type: 'put',
        namespace: ns,
        key: prefixed('T', transactionHash(tx)),
        value: rlpEncode([bigintToBytes(h.height), bigintToBytes(BigInt(i)), hash]),
      })
    })
    ops.push({ type: 'put', namespace: ns, key: heightKey(h.height), value: hash })
    ops.push({ type: 'put', namespace: ns, key: HEAD_KEY, value: hash })
    return ops
  }

  /**
   * Writes block, receipts, tx index, state ops and head in ONE atomic batch.
   * @example
   * await chain.commitBlock({ block, receipts, stateOps: await state.flush() })
   */
  async commitBlock(input: CommitBlockInput): Promise<void> {
    const ops = this.commitOps(input)
    await this.db.batch(ops)
    this.headHeader = input.block.header
    this.headBlockHash = blockHash(input.block.header)
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}
