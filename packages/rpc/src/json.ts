/**
 * JSON conventions of the API: bigints as decimal strings, bytes as 0x-hex (lowercase),
 * heights as numbers. Encoders turn ledger values into JSON; parsers turn user input into values
 * or throw a 400 RPCError naming the field and what was expected.
 */
import type { Account, BlockHeader, Log, Receipt, Transaction, ValidatorSet } from '@aureon/ledger'
import { RPCError, RPCErrorCode } from './errors.js'
import { MAX_U64, MAX_U128 } from './params.js'
import type {
  AccountJson,
  BlockJson,
  CallResultJson,
  HeaderJson,
  LogJson,
  ReceiptJson,
  RPCBlockData,
  RPCCallResult,
  RPCTxData,
  TxJson,
  TxKindName,
  ValidatorsJson,
} from './types.js'

/**
 * Bytes as `0x` + lowercase hex.
 * @example
 * toHex(new Uint8Array([1, 255])) // '0x01ff'
 */
export function toHex(b: Uint8Array): string {
  return '0x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

const HEX_RE = /^0x(?:[0-9a-fA-F]{2})*$/

/**
 * Parses 0x-hex (even length). `length` pins the byte length. Throws a 400 RPCError.
 * @example
 * parseHex('0x01ff', 'args') // Uint8Array [1, 255]
 */
export function parseHex(
  s: unknown,
  field: string,
  length?: number,
  code: string = RPCErrorCode.BAD_HEX,
): Uint8Array {
  if (typeof s !== 'string' || !HEX_RE.test(s)) {
    throw new RPCError(code, `${field} must be 0x-prefixed hex with an even number of digits`, {
      details: { field },
    })
  }
  const b = new Uint8Array(Buffer.from(s.slice(2), 'hex'))
  if (length !== undefined && b.length !== length) {
    throw new RPCError(code, `${field} must be ${length} bytes, got ${b.length}`, {
      details: { field, expected: length, got: b.length },
    })
  }
  return b
}

/** Parses a 20-byte 0x-hex address. */
export function parseAddressParam(s: unknown, field = 'address'): Uint8Array {
  return parseHex(s, field, 20, RPCErrorCode.BAD_ADDRESS)
}

/** Parses a 32-byte 0x-hex hash. */
export function parseHashParam(s: unknown, field = 'hash'): Uint8Array {
  return parseHex(s, field, 32, RPCErrorCode.BAD_HASH)
}

const DEC_RE = /^(?:0|[1-9][0-9]*)$/

/**
 * Parses a decimal string (or a safe integer number) as a bigint in [0, max].
 * @example
 * parseAmount('1000', 'amount') // 1000n
 */
export function parseAmount(s: unknown, field: string, max: bigint = MAX_U128): bigint {
  let v: bigint
  if (typeof s === 'number' && Number.isSafeInteger(s) && s >= 0) v = BigInt(s)
  else if (typeof s === 'string' && s.length <= 40 && DEC_RE.test(s)) v = BigInt(s)
  else {
    throw new RPCError(RPCErrorCode.BAD_AMOUNT, `${field} must be a non-negative decimal string`, {
      details: { field },
    })
  }
  if (v > max) {
    throw new RPCError(RPCErrorCode.BAD_AMOUNT, `${field} must be at most ${max}`, {
      details: { field, max: max.toString() },
    })
  }
  return v
}

/** Parses a block height (decimal, at most u64). */
export function parseHeight(s: unknown, field = 'height'): bigint {
  try {
    return parseAmount(s, field, MAX_U64)
  } catch (e) {
    throw new RPCError(
      RPCErrorCode.BAD_HEIGHT,
      `${field} must be a decimal block height up to 2^64-1`,
      {
        details: { field },
        cause: e,
      },
    )
  }
}

/** A bigint height as a JSON number. */
export function heightToNumber(h: bigint): number {
  return Number(h)
}

const KIND_NAMES: TxKindName[] = [
  'transfer',
  'contract_deploy',
  'contract_call',
  'stake',
  'unstake',
]

/** The API name of a TxKind number. */
export function txKindName(kind: number): TxKindName {
  return KIND_NAMES[kind] ?? ('unknown' as TxKindName)
}

/** The TxKind number of an API name (or of a number), or undefined. */
export function txKindFromName(name: unknown): number | undefined {
  if (typeof name === 'number' && Number.isInteger(name) && name >= 0 && name < KIND_NAMES.length)
    return name
  if (typeof name !== 'string') return undefined
  const i = KIND_NAMES.indexOf(name as TxKindName)
  return i < 0 ? undefined : i
}

/** A header as JSON (with its hash). */
export function headerToJson(header: BlockHeader, hash: Uint8Array): HeaderJson {
  return {
    hash: toHex(hash),
    height: heightToNumber(header.height),
    parentHash: toHex(header.parentHash),
    timestamp: Number(header.timestamp),
    proposer: toHex(header.proposer),
    stateRoot: toHex(header.stateRoot),
    txRoot: toHex(header.txRoot),
    receiptsRoot: toHex(header.receiptsRoot),
    gasUsed: header.gasUsed.toString(),
    gasLimit: header.gasLimit.toString(),
    chainId: header.chainId.toString(),
    consensus: toHex(header.consensus),
  }
}

/** A transaction as JSON. */
export function txToJson(data: RPCTxData): TxJson {
  const tx: Transaction = data.tx
  const out: TxJson = {
    hash: toHex(data.hash),
    from: toHex(data.sender),
    kind: txKindName(tx.kind),
    chainId: tx.chainId.toString(),
    nonce: tx.nonce.toString(),
    gasPrice: tx.gasPrice.toString(),
    gasLimit: tx.gasLimit.toString(),
    senderPublicKey: toHex(tx.senderPublicKey),
    signature: toHex(tx.signature),
  }
  switch (tx.kind) {
    case 0:
      out.to = toHex(tx.to)
      out.amount = tx.amount.toString()
      break
    case 1:
      out.code = toHex(tx.code)
      out.codeSize = tx.code.length
      out.args = toHex(tx.args)
      out.value = tx.value.toString()
      break
    case 2:
      out.contract = toHex(tx.contract)
      out.function = tx.function
      out.args = toHex(tx.args)
      out.value = tx.value.toString()
      break
    case 3:
      out.amount = tx.amount.toString()
      if (tx.blsPublicKey && tx.blsPublicKey.length > 0) out.blsPublicKey = toHex(tx.blsPublicKey)
      if (tx.blsPop && tx.blsPop.length > 0) out.blsPop = toHex(tx.blsPop)
      break
    case 4:
      out.amount = tx.amount.toString()
      break
  }
  return out
}

/** A block as JSON: transaction hashes, or full transactions if `full`. */
export function blockToJson(block: RPCBlockData, full = false): BlockJson {
  return {
    ...headerToJson(block.header, block.hash),
    txCount: block.transactions.length,
    transactions: full
      ? block.transactions.map(txToJson)
      : block.transactions.map((t) => toHex(t.hash)),
  }
}

/** A log as JSON. */
export function logToJson(log: Log): LogJson {
  return { address: toHex(log.address), topics: log.topics.map(toHex), data: toHex(log.data) }
}

/** A receipt as JSON. */
export function receiptToJson(r: Receipt): ReceiptJson {
  const out: ReceiptJson = {
    txHash: toHex(r.txHash),
    blockHeight: heightToNumber(r.blockHeight),
    index: r.index,
    status: r.status,
    gasUsed: r.gasUsed.toString(),
    gasPrice: r.gasPrice.toString(),
    fee: r.fee.toString(),
    output: toHex(r.output),
    logs: r.logs.map(logToJson),
    debugLogs: [...r.debugLogs],
    balanceChanges: r.balanceChanges.map((c) => ({
      address: toHex(c.address),
      balance: c.balance.toString(),
    })),
  }
  if (r.error) out.error = { code: r.error.code, message: r.error.message }
  if (r.contractAddress) out.contractAddress = toHex(r.contractAddress)
  return out
}

/** An account as JSON. */
export function accountToJson(address: Uint8Array, a: Account, isContract: boolean): AccountJson {
  return {
    address: toHex(address),
    balance: a.balance.toString(),
    nonce: a.nonce.toString(),
    stake: a.stake.toString(),
    isContract,
    codeHash: toHex(a.codeHash),
    storageRoot: toHex(a.storageRoot),
    unbonding: a.unbonding.map((u) => ({
      amount: u.amount.toString(),
      releaseHeight: heightToNumber(u.releaseHeight),
    })),
  }
}

/** A simulation result as JSON. */
export function callResultToJson(r: RPCCallResult): CallResultJson {
  const out: CallResultJson = {
    status: r.status,
    gasUsed: r.gasUsed.toString(),
    output: toHex(r.output),
    logs: r.logs.map(logToJson),
    debugLogs: [...r.debugLogs],
  }
  if (r.error) out.error = { code: r.error.code, message: r.error.message }
  return out
}

/** A validator set as JSON. */
export function validatorsToJson(set: ValidatorSet): ValidatorsJson {
  return {
    epoch: Number(set.epoch),
    totalStake: set.totalStake.toString(),
    validators: set.validators.map((v) => ({
      address: toHex(v.address),
      publicKey: toHex(v.publicKey),
      blsPublicKey: toHex(v.blsPublicKey),
      stake: v.stake.toString(),
    })),
  }
}
