/** Block headers, blocks and receipts: encodings, hashes and roots (docs/encoding.md). */
import {
  bigintToBytes,
  checkUint,
  decodeSmall,
  decodeU128,
  decodeUint,
  decodeUtf8,
  encodeUtf8,
  expectAnyList,
  expectBytes,
  expectList,
  type RLPItem,
  rlpDecodeStrict,
  rlpEncode,
} from './codec.js'
import { LedgerError, LedgerErrorCode } from './errors.js'
import { sha256 } from './hash.js'
import { MAX_BLOCK_SIZE, MAX_CONSENSUS_BYTES, MAX_U128 } from './params.js'
import { orderedTrieRoot } from './trie-root.js'
import { decodeTransaction, encodeTransaction } from './tx.js'
import type { Block, BlockHeader, Receipt, ReceiptStatus, Transaction } from './types.js'

function headerItems(h: BlockHeader): RLPItem[] {
  return [
    bigintToBytes(checkUint(h.chainId, 'chainId')),
    bigintToBytes(checkUint(h.height, 'height')),
    h.parentHash,
    bigintToBytes(checkUint(h.timestamp, 'timestamp')),
    h.proposer,
    h.stateRoot,
    h.txRoot,
    h.receiptsRoot,
    bigintToBytes(checkUint(h.gasUsed, 'gasUsed')),
    bigintToBytes(checkUint(h.gasLimit, 'gasLimit')),
    h.consensus,
  ]
}

/**
 * RLP([chainId, height, parentHash, timestamp, proposer, stateRoot, txRoot, receiptsRoot,
 * gasUsed, gasLimit, consensus]).
 * @example
 * decodeHeader(encodeHeader(header))
 */
export function encodeHeader(h: BlockHeader): Uint8Array {
  return rlpEncode(headerItems(h))
}

function headerFromItem(item: RLPItem): BlockHeader {
  const f = expectList(item, 11, 'header')
  return {
    chainId: decodeUint(f[0], 'chainId'),
    height: decodeUint(f[1], 'height'),
    parentHash: expectBytes(f[2], 'parentHash', { length: 32 }),
    timestamp: decodeUint(f[3], 'timestamp'),
    proposer: expectBytes(f[4], 'proposer', { length: 20 }),
    stateRoot: expectBytes(f[5], 'stateRoot', { length: 32 }),
    txRoot: expectBytes(f[6], 'txRoot', { length: 32 }),
    receiptsRoot: expectBytes(f[7], 'receiptsRoot', { length: 32 }),
    gasUsed: decodeUint(f[8], 'gasUsed'),
    gasLimit: decodeUint(f[9], 'gasLimit'),
    consensus: expectBytes(f[10], 'consensus', { max: MAX_CONSENSUS_BYTES }),
  }
}

/** Decodes a header, refusing non-canonical bytes. */
export function decodeHeader(bytes: Uint8Array): BlockHeader {
  return headerFromItem(rlpDecodeStrict(bytes, MAX_CONSENSUS_BYTES + 1024, 'header'))
}

/**
 * Block hash: sha256 of the header's encoding.
 * @example
 * bytesToHex(blockHash(block.header))
 */
export function blockHash(h: BlockHeader): Uint8Array {
  return sha256(encodeHeader(h))
}

/**
 * RLP([header, [txBytes, ...]]): transactions are embedded as their signed encodings.
 * @example
 * decodeBlock(encodeBlock(block))
 */
export function encodeBlock(b: Block): Uint8Array {
  return rlpEncode([headerItems(b.header), b.transactions.map(encodeTransaction)])
}

/** Decodes a block, refusing non-canonical bytes. */
export function decodeBlock(bytes: Uint8Array): Block {
  const f = expectList(rlpDecodeStrict(bytes, MAX_BLOCK_SIZE, 'block'), 2, 'block')
  return {
    header: headerFromItem(f[0]),
    transactions: expectAnyList(f[1], 'transactions').map((t) =>
      decodeTransaction(expectBytes(t, 'transaction')),
    ),
  }
}

/**
 * txRoot: trie root over RLP(index) -> encodeTransaction(tx).
 * @example
 * transactionsRoot(block.transactions)
 */
export function transactionsRoot(txs: Transaction[]): Uint8Array {
  return orderedTrieRoot(txs.map(encodeTransaction))
}

/** receiptsRoot: trie root over RLP(index) -> encodeReceipt(receipt). */
export function receiptsRoot(receipts: Receipt[]): Uint8Array {
  return orderedTrieRoot(receipts.map(encodeReceipt))
}

const STATUS: ReceiptStatus[] = ['Success', 'Failed', 'OutOfGas', 'Reverted']

/**
 * RLP([txHash, blockHeight, index, status, gasUsed, gasPrice, fee, output,
 * [[address, [topic...], data]...], [debugLine...], error ([] or [code, message]),
 * contractAddress (empty or 20 bytes), [[address, balance]...]]).
 * @example
 * decodeReceipt(encodeReceipt(receipt))
 */
export function encodeReceipt(r: Receipt): Uint8Array {
  const status = STATUS.indexOf(r.status)
  if (status < 0) throw new LedgerError(LedgerErrorCode.INVALID_FIELD, `bad status ${r.status}`)
  return rlpEncode([
    r.txHash,
    bigintToBytes(r.blockHeight),
    bigintToBytes(BigInt(r.index)),
    bigintToBytes(BigInt(status)),
    bigintToBytes(r.gasUsed),
    bigintToBytes(r.gasPrice),
    bigintToBytes(checkUint(r.fee, 'fee', MAX_U128)),
    r.output,
    r.logs.map((l) => [l.address, l.topics, l.data]),
    r.debugLogs.map(encodeUtf8),
    r.error ? [encodeUtf8(r.error.code), encodeUtf8(r.error.message)] : [],
    r.contractAddress ?? new Uint8Array(0),
    r.balanceChanges.map((c) => [c.address, bigintToBytes(c.balance)]),
  ])
}

/** Decodes a receipt. */
export function decodeReceipt(bytes: Uint8Array): Receipt {
  const f = expectList(rlpDecodeStrict(bytes, MAX_BLOCK_SIZE, 'receipt'), 13, 'receipt')
  const status = decodeSmall(f[3], 'status')
  if (status >= STATUS.length) {
    throw new LedgerError(LedgerErrorCode.INVALID_FIELD, `receipt status ${status}, expected 0..3`)
  }
  const err = expectAnyList(f[10], 'error')
  const ca = expectBytes(f[11], 'contractAddress', { lengths: [0, 20] })
  const r: Receipt = {
    txHash: expectBytes(f[0], 'txHash', { length: 32 }),
    blockHeight: decodeUint(f[1], 'blockHeight'),
    index: decodeSmall(f[2], 'index'),
    status: STATUS[status],
    gasUsed: decodeUint(f[4], 'gasUsed'),
    gasPrice: decodeU128(f[5], 'gasPrice'),
    fee: decodeU128(f[6], 'fee'),
    output: expectBytes(f[7], 'output'),
    logs: expectAnyList(f[8], 'logs').map((l) => {
      const e = expectList(l, 3, 'log')
      return {
        address: expectBytes(e[0], 'log address', { length: 20 }),
        topics: expectAnyList(e[1], 'topics').map((t) => expectBytes(t, 'topic', { length: 32 })),
        data: expectBytes(e[2], 'log data'),
      }
    }),
    debugLogs: expectAnyList(f[9], 'debugLogs').map((d) =>
      decodeUtf8(expectBytes(d, 'debug line'), 'debug line'),
    ),
    balanceChanges: expectAnyList(f[12], 'balanceChanges').map((c) => {
      const e = expectList(c, 2, 'balance change')
      return {
        address: expectBytes(e[0], 'address', { length: 20 }),
        balance: decodeU128(e[1], 'balance'),
      }
    }),
  }
  if (err.length > 0) {
    const e = expectList(err, 2, 'error')
    r.error = {
      code: decodeUtf8(expectBytes(e[0], 'error code'), 'error code'),
      message: decodeUtf8(expectBytes(e[1], 'error message'), 'error message'),
    }
  }
  if (ca.length > 0) r.contractAddress = ca
  return r
}
