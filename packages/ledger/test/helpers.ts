import { createPrivateKey, type KeyObject, sign as nodeSign } from 'node:crypto'
import { addressFromPublicKey, ed25519 } from '@aureon/crypto'
import fc from 'fast-check'
import { signingPayload } from '../src/tx.js'
import type { Transaction, UnsignedTransaction } from '../src/types.js'
import { TxKind } from '../src/types.js'

export interface Key {
  sk: Uint8Array
  pk: Uint8Array
  address: Uint8Array
  keyObject: KeyObject
}

const PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex')

/** Fast test signing with a cached node:crypto key (same bytes as signTransaction). */
export function fastSign(u: UnsignedTransaction, k: Key): Transaction {
  const payload = signingPayload(u, k.pk)
  const signature = new Uint8Array(nodeSign(null, payload, k.keyObject))
  return { ...u, senderPublicKey: k.pk, signature } as Transaction
}

/** Deterministic keys: seed i -> 32 bytes. */
export function key(i: number): Key {
  const sk = new Uint8Array(32)
  new DataView(sk.buffer).setUint32(0, i + 1)
  sk[31] = 7
  const pk = ed25519.getPublicKey(sk)
  const keyObject = createPrivateKey({
    key: Buffer.concat([PKCS8, sk]),
    format: 'der',
    type: 'pkcs8',
  })
  return { sk, pk, address: addressFromPublicKey(pk), keyObject }
}

export function transfer(
  from: Key,
  to: Uint8Array,
  nonce: bigint,
  amount = 1n,
  over: Partial<UnsignedTransaction> = {},
): Transaction {
  return fastSign(
    {
      kind: TxKind.Transfer,
      chainId: 1n,
      nonce,
      gasPrice: 1n,
      gasLimit: 21_000n,
      to,
      amount,
      ...over,
    } as UnsignedTransaction,
    from,
  )
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max })

const common = fc.record({ chainId: u64, nonce: u64, gasPrice: u128, gasLimit: u64 })

export const arbUnsigned: fc.Arbitrary<UnsignedTransaction> = fc.oneof(
  fc.tuple(common, bytes(20, 20), u128).map(([c, to, amount]) => ({
    kind: TxKind.Transfer,
    ...c,
    to,
    amount,
  })),
  fc.tuple(common, bytes(0, 200), bytes(0, 50), u128).map(([c, code, args, value]) => ({
    kind: TxKind.ContractDeploy,
    ...c,
    code,
    args,
    value,
  })),
  fc
    .tuple(common, bytes(20, 20), fc.string({ maxLength: 20 }), bytes(0, 50), u128)
    .map(([c, contract, fn, args, value]) => ({
      kind: TxKind.ContractCall,
      ...c,
      contract,
      function: fn,
      args,
      value,
    })),
  fc
    .tuple(common, u128, fc.option(fc.tuple(bytes(48, 48), bytes(96, 96)), { nil: undefined }))
    .map(([c, amount, bls]) => ({
      kind: TxKind.Stake,
      ...c,
      amount,
      ...(bls ? { blsPublicKey: bls[0], blsPop: bls[1] } : {}),
    })),
  fc.tuple(common, u128).map(([c, amount]) => ({ kind: TxKind.Unstake, ...c, amount })),
) as fc.Arbitrary<UnsignedTransaction>
