/**
 * Transactions: encoding, signing payload, hash, sender, intrinsic gas and stateless checks.
 * Layouts are in docs/encoding.md. Transactions are treated as immutable once signed or
 * decoded: their encoding, hash and sender are cached per object.
 */
import { addressFromPublicKey, ed25519 } from '@aureon/crypto'
import {
  bigintToBytes,
  checkUint,
  decodeU128,
  decodeUint,
  decodeUtf8,
  encodeUtf8,
  expectBytes,
  expectList,
  type RLPItem,
  rlpDecodeStrict,
  rlpEncode,
} from './codec.js'
import { LedgerError, LedgerErrorCode } from './errors.js'
import { sha256 } from './hash.js'
import {
  GAS_BLS_POP,
  GAS_DEPLOY_BASE,
  GAS_PER_CODE_BYTE,
  GAS_PER_DATA_BYTE,
  GAS_STAKING,
  GAS_TX_BASE,
  MAX_CODE_SIZE,
  MAX_FUNCTION_NAME,
  MAX_TX_SIZE,
  MAX_U128,
  TX_SIGNING_DOMAIN,
} from './params.js'
import type { Transaction, TxKindFields, UnsignedTransaction } from './types.js'
import { TxKind } from './types.js'

const EMPTY = new Uint8Array(0)
const DOMAIN = encodeUtf8(TX_SIGNING_DOMAIN)

interface TxCache {
  encoded?: Uint8Array
  hash?: Uint8Array
  sender?: Uint8Array
  payload?: Uint8Array
}
const cache = new WeakMap<object, TxCache>()
function cacheOf(tx: object): TxCache {
  let c = cache.get(tx)
  if (!c) {
    c = {}
    cache.set(tx, c)
  }
  return c
}

/** Number of fields of each kind's body (after the 5 common fields). */
const BODY_FIELDS: Record<number, number> = { 0: 2, 1: 3, 2: 4, 3: 3, 4: 1 }

function checkAddress(a: Uint8Array, what: string): void {
  if (!(a instanceof Uint8Array) || a.length !== 20) {
    throw new LedgerError(LedgerErrorCode.BAD_ADDRESS, `${what}: expected a 20-byte address`)
  }
}

function bodyItems(tx: TxKindFields): RLPItem[] {
  switch (tx.kind) {
    case TxKind.Transfer:
      checkAddress(tx.to, 'to')
      return [tx.to, bigintToBytes(checkUint(tx.amount, 'amount', MAX_U128))]
    case TxKind.ContractDeploy:
      return [tx.code, tx.args, bigintToBytes(checkUint(tx.value, 'value', MAX_U128))]
    case TxKind.ContractCall:
      checkAddress(tx.contract, 'contract')
      return [
        tx.contract,
        encodeUtf8(tx.function),
        tx.args,
        bigintToBytes(checkUint(tx.value, 'value', MAX_U128)),
      ]
    case TxKind.Stake:
      return [
        bigintToBytes(checkUint(tx.amount, 'amount', MAX_U128)),
        tx.blsPublicKey ?? EMPTY,
        tx.blsPop ?? EMPTY,
      ]
    case TxKind.Unstake:
      return [bigintToBytes(checkUint(tx.amount, 'amount', MAX_U128))]
    default:
      throw new LedgerError(
        LedgerErrorCode.UNKNOWN_KIND,
        `unknown transaction kind ${String((tx as { kind: unknown }).kind)}, expected 0..4`,
      )
  }
}

function commonItems(tx: UnsignedTransaction): RLPItem[] {
  return [
    bigintToBytes(BigInt(tx.kind)),
    bigintToBytes(checkUint(tx.chainId, 'chainId')),
    bigintToBytes(checkUint(tx.nonce, 'nonce')),
    bigintToBytes(checkUint(tx.gasPrice, 'gasPrice', MAX_U128)),
    bigintToBytes(checkUint(tx.gasLimit, 'gasLimit')),
  ]
}

/**
 * The bytes an ed25519 signature covers: RLP(["aureon/tx/v1", kind, chainId, nonce, gasPrice,
 * gasLimit, ...body, senderPublicKey]). The domain string and the chain id keep a signature from
 * being replayed as another message or on another chain.
 * @example
 * const msg = signingPayload(unsigned, publicKey)
 */
export function signingPayload(tx: UnsignedTransaction, senderPublicKey: Uint8Array): Uint8Array {
  return rlpEncode([DOMAIN, ...commonItems(tx), ...bodyItems(tx), senderPublicKey])
}

/** The signing payload of a signed transaction (cached). */
export function transactionSigningPayload(tx: Transaction): Uint8Array {
  const c = cacheOf(tx)
  c.payload ??= signingPayload(tx, tx.senderPublicKey)
  return c.payload
}

/**
 * Signs a transaction with an ed25519 secret key (32-byte seed).
 * @example
 * const tx = signTransaction({ kind: TxKind.Transfer, chainId: 1n, nonce: 0n, gasPrice: 1n,
 *   gasLimit: 21000n, to, amount: 5n }, secretKey)
 */
export function signTransaction(unsigned: UnsignedTransaction, secretKey: Uint8Array): Transaction {
  const senderPublicKey = ed25519.getPublicKey(secretKey)
  const payload = signingPayload(unsigned, senderPublicKey)
  const signature = ed25519.sign(payload, secretKey)
  const tx = { ...unsigned, senderPublicKey, signature } as Transaction
  cacheOf(tx).payload = payload
  return tx
}

/**
 * The signed encoding: RLP([kind, chainId, nonce, gasPrice, gasLimit, ...body, senderPublicKey,
 * signature]) (cached per object).
 * @example
 * const bytes = encodeTransaction(tx)
 */
export function encodeTransaction(tx: Transaction): Uint8Array {
  const c = cacheOf(tx)
  if (c.encoded) return c.encoded
  if (!(tx.senderPublicKey instanceof Uint8Array) || tx.senderPublicKey.length !== 32) {
    throw new LedgerError(LedgerErrorCode.INVALID_FIELD, 'senderPublicKey: expected 32 bytes')
  }
  if (!(tx.signature instanceof Uint8Array) || tx.signature.length !== 64) {
    throw new LedgerError(LedgerErrorCode.INVALID_FIELD, 'signature: expected 64 bytes')
  }
  c.encoded = rlpEncode([...commonItems(tx), ...bodyItems(tx), tx.senderPublicKey, tx.signature])
  return c.encoded
}

/** The RLP item form of a transaction (for embedding in a block). */
export function transactionToItem(tx: Transaction): RLPItem {
  return rlpDecodeStrict(encodeTransaction(tx), MAX_TX_SIZE, 'transaction')
}

/**
 * Decodes a signed transaction, refusing non-canonical bytes with coded errors.
 * @example
 * const tx = decodeTransaction(encodeTransaction(signed))
 */
export function decodeTransaction(bytes: Uint8Array): Transaction {
  const item = rlpDecodeStrict(bytes, MAX_TX_SIZE, 'transaction')
  const tx = transactionFromItem(item)
  cacheOf(tx).encoded = bytes
  return tx
}

/** Decodes a transaction from its RLP item. */
export function transactionFromItem(item: RLPItem): Transaction {
  if (!Array.isArray(item)) {
    throw new LedgerError(LedgerErrorCode.DECODE, 'transaction: expected a list, got bytes')
  }
  if (item.length < 1) {
    throw new LedgerError(LedgerErrorCode.FIELD_COUNT, 'transaction: empty list')
  }
  const kind = decodeUint(item[0], 'kind', 255n)
  const bodyCount = BODY_FIELDS[Number(kind)]
  if (bodyCount === undefined) {
    throw new LedgerError(
      LedgerErrorCode.UNKNOWN_KIND,
      `unknown transaction kind ${kind}, expected 0..4`,
    )
  }
  const f = expectList(item, 5 + bodyCount + 2, 'transaction')
  const common = {
    chainId: decodeUint(f[1], 'chainId'),
    nonce: decodeUint(f[2], 'nonce'),
    gasPrice: decodeU128(f[3], 'gasPrice'),
    gasLimit: decodeUint(f[4], 'gasLimit'),
  }
  const b = f.slice(5, 5 + bodyCount)
  const senderPublicKey = expectBytes(f[5 + bodyCount], 'senderPublicKey', { length: 32 })
  const signature = expectBytes(f[6 + bodyCount], 'signature', { length: 64 })
  const sig = { senderPublicKey, signature }
  switch (Number(kind)) {
    case TxKind.Transfer:
      return {
        kind: TxKind.Transfer,
        ...common,
        to: expectBytes(b[0], 'to', { length: 20 }),
        amount: decodeU128(b[1], 'amount'),
        ...sig,
      }
    case TxKind.ContractDeploy:
      return {
        kind: TxKind.ContractDeploy,
        ...common,
        code: expectBytes(b[0], 'code'),
        args: expectBytes(b[1], 'args'),
        value: decodeU128(b[2], 'value'),
        ...sig,
      }
    case TxKind.ContractCall:
      return {
        kind: TxKind.ContractCall,
        ...common,
        contract: expectBytes(b[0], 'contract', { length: 20 }),
        function: decodeUtf8(expectBytes(b[1], 'function', { max: MAX_FUNCTION_NAME }), 'function'),
        args: expectBytes(b[2], 'args'),
        value: decodeU128(b[3], 'value'),
        ...sig,
      }
    case TxKind.Stake: {
      const blsPublicKey = expectBytes(b[1], 'blsPublicKey', { lengths: [0, 48] })
      const blsPop = expectBytes(b[2], 'blsPop', { lengths: [0, 96] })
      if ((blsPublicKey.length === 0) !== (blsPop.length === 0)) {
        throw new LedgerError(
          LedgerErrorCode.INVALID_FIELD,
          'stake: blsPublicKey and blsPop must be both present or both empty',
        )
      }
      const tx: Transaction = {
        kind: TxKind.Stake,
        ...common,
        amount: decodeU128(b[0], 'amount'),
        ...sig,
      }
      if (blsPublicKey.length > 0) {
        tx.blsPublicKey = blsPublicKey
        tx.blsPop = blsPop
      }
      return tx
    }
    default:
      return { kind: TxKind.Unstake, ...common, amount: decodeU128(b[0], 'amount'), ...sig }
  }
}

/**
 * Transaction hash: sha256 of the signed encoding (cached).
 * @example
 * bytesToHex(transactionHash(tx))
 */
export function transactionHash(tx: Transaction): Uint8Array {
  const c = cacheOf(tx)
  c.hash ??= sha256(encodeTransaction(tx))
  return c.hash
}

/**
 * The sender's address, derived from `senderPublicKey` (cached).
 * @example
 * addressToHex(transactionSender(tx))
 */
export function transactionSender(tx: Transaction): Uint8Array {
  const c = cacheOf(tx)
  c.sender ??= addressFromPublicKey(tx.senderPublicKey)
  return c.sender
}

/** Checks the transaction's signature (one verification; pools and blocks batch instead). */
export function verifyTransactionSignature(tx: Transaction): boolean {
  return ed25519.verify(tx.signature, transactionSigningPayload(tx), tx.senderPublicKey)
}

/**
 * Intrinsic gas: charged before anything runs (docs/gas.md, "Intrinsic gas").
 * @example
 * intrinsicGas(transferTx) // 21000n
 */
export function intrinsicGas(tx: UnsignedTransaction): bigint {
  switch (tx.kind) {
    case TxKind.Transfer:
      return GAS_TX_BASE
    case TxKind.ContractDeploy:
      return (
        GAS_TX_BASE +
        GAS_DEPLOY_BASE +
        GAS_PER_DATA_BYTE * BigInt(tx.code.length + tx.args.length) +
        GAS_PER_CODE_BYTE * BigInt(tx.code.length)
      )
    case TxKind.ContractCall:
      return (
        GAS_TX_BASE + GAS_PER_DATA_BYTE * BigInt(encodeUtf8(tx.function).length + tx.args.length)
      )
    case TxKind.Stake:
      return GAS_TX_BASE + GAS_STAKING + (tx.blsPublicKey ? GAS_BLS_POP : 0n)
    case TxKind.Unstake:
      return GAS_TX_BASE + GAS_STAKING
    default:
      throw new LedgerError(LedgerErrorCode.UNKNOWN_KIND, 'unknown transaction kind')
  }
}

/** The most a transaction can cost its sender: value/amount moved + gasLimit x gasPrice. */
export function maxCost(tx: UnsignedTransaction): bigint {
  return txValue(tx) + tx.gasLimit * tx.gasPrice
}

/** The amount a transaction moves out of balance (Unstake moves stake, not balance: 0). */
export function txValue(tx: UnsignedTransaction): bigint {
  switch (tx.kind) {
    case TxKind.Transfer:
    case TxKind.Stake:
      return tx.amount
    case TxKind.ContractDeploy:
    case TxKind.ContractCall:
      return tx.value
    default:
      return 0n
  }
}

/**
 * Checks everything that needs no state and no signature check: chain id, ranges, sizes,
 * intrinsic gas, block gas limit. Throws a LedgerError with a stable code.
 * @example
 * validateTransactionStateless(tx, { chainId: 1n, blockGasLimit: 30_000_000n })
 */
export function validateTransactionStateless(
  tx: Transaction,
  opts: { chainId: bigint; blockGasLimit: bigint; minGasPrice?: bigint },
): void {
  if (tx.chainId !== opts.chainId) {
    throw new LedgerError(
      LedgerErrorCode.WRONG_CHAIN_ID,
      `transaction for chain ${tx.chainId}, expected chain ${opts.chainId}`,
      { details: { got: String(tx.chainId), expected: String(opts.chainId) } },
    )
  }
  const size = encodeTransaction(tx).length // also checks every field's range and kind
  if (size > MAX_TX_SIZE) {
    throw new LedgerError(
      LedgerErrorCode.TX_TOO_LARGE,
      `transaction is ${size} bytes, expected at most ${MAX_TX_SIZE}`,
    )
  }
  if (tx.kind === TxKind.ContractDeploy && tx.code.length > MAX_CODE_SIZE) {
    throw new LedgerError(
      LedgerErrorCode.CODE_TOO_LARGE,
      `contract code is ${tx.code.length} bytes, expected at most ${MAX_CODE_SIZE}`,
    )
  }
  if (tx.kind === TxKind.ContractCall && encodeUtf8(tx.function).length > MAX_FUNCTION_NAME) {
    throw new LedgerError(
      LedgerErrorCode.INVALID_FIELD,
      `function name longer than ${MAX_FUNCTION_NAME} bytes`,
    )
  }
  if (tx.kind === TxKind.Stake) {
    const k = tx.blsPublicKey
    const p = tx.blsPop
    if (
      (k === undefined) !== (p === undefined) ||
      (k && k.length !== 48) ||
      (p && p.length !== 96)
    ) {
      throw new LedgerError(
        LedgerErrorCode.BAD_BLS_KEY,
        'stake: blsPublicKey (48 bytes) and blsPop (96 bytes) must come together',
      )
    }
  }
  const intrinsic = intrinsicGas(tx)
  if (tx.gasLimit < intrinsic) {
    throw new LedgerError(
      LedgerErrorCode.INTRINSIC_GAS,
      `gas limit ${tx.gasLimit} is below the intrinsic gas ${intrinsic}`,
      { details: { gasLimit: String(tx.gasLimit), intrinsic: String(intrinsic) } },
    )
  }
  if (tx.gasLimit > opts.blockGasLimit) {
    throw new LedgerError(
      LedgerErrorCode.GAS_LIMIT_EXCEEDS_BLOCK,
      `gas limit ${tx.gasLimit} is above the block gas limit ${opts.blockGasLimit}`,
    )
  }
  if (opts.minGasPrice !== undefined && tx.gasPrice < opts.minGasPrice) {
    throw new LedgerError(
      LedgerErrorCode.GAS_PRICE_TOO_LOW,
      `gas price ${tx.gasPrice} is below the minimum ${opts.minGasPrice}`,
    )
  }
  if (maxCost(tx) > MAX_U128) {
    throw new LedgerError(
      LedgerErrorCode.AMOUNT_OUT_OF_RANGE,
      'value + gasLimit x gasPrice is above u128',
    )
  }
}
