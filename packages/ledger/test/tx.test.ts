import { ed25519 } from '@aureon/crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bigintToBytes, type RLPItem, rlpDecodeStrict, rlpEncode } from '../src/codec.js'
import { isLedgerError } from '../src/errors.js'
import { MAX_CODE_SIZE, MAX_U128 } from '../src/params.js'
import {
  decodeTransaction,
  encodeTransaction,
  intrinsicGas,
  maxCost,
  signingPayload,
  signTransaction,
  transactionHash,
  transactionSender,
  transactionToItem,
  txValue,
  validateTransactionStateless,
  verifyTransactionSignature,
} from '../src/tx.js'
import { type Transaction, TxKind, type UnsignedTransaction } from '../src/types.js'
import { arbUnsigned, key, transfer } from './helpers.js'

const alice = key(1)
const bob = key(2)
const V = { chainId: 1n, blockGasLimit: 30_000_000n }

describe('[Transaction]: codec', () => {
  it('decode(encode(tx)) == tx for every kind', () => {
    fc.assert(
      fc.property(arbUnsigned, (u) => {
        const tx = signTransaction(u, alice.sk)
        const enc = encodeTransaction(tx)
        const back = decodeTransaction(new Uint8Array(enc))
        expect(back).toEqual(tx)
        expect(encodeTransaction({ ...back })).toEqual(enc)
        expect(transactionHash(back)).toEqual(transactionHash(tx))
        expect(verifyTransactionSignature(back)).toBe(true)
      }),
      { numRuns: 200 },
    )
  })

  it('random bytes never crash the decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        try {
          decodeTransaction(b)
        } catch (e) {
          expect(isLedgerError(e)).toBe(true)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('mutated encodings decode to something else or fail with a code', () => {
    const tx = transfer(alice, bob.address, 3n)
    const enc = encodeTransaction(tx)
    fc.assert(
      fc.property(fc.nat(enc.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const m = enc.slice()
        m[i] ^= x
        try {
          const d = decodeTransaction(m)
          expect(verifyTransactionSignature(d) && transactionHash(d)).not.toEqual(
            transactionHash(tx),
          )
        } catch (e) {
          expect(isLedgerError(e)).toBe(true)
        }
      }),
    )
  })

  it('refuses wrong field counts, unknown kinds, bad lengths', () => {
    const tx = transfer(alice, bob.address, 0n)
    const items = transactionToItem(tx) as RLPItem[]
    expect(() => decodeTransaction(rlpEncode(items.slice(0, -1)))).toThrow(
      expect.objectContaining({ code: 'ERR_FIELD_COUNT' }),
    )
    expect(() => decodeTransaction(rlpEncode([bigintToBytes(9n), ...items.slice(1)]))).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_KIND' }),
    )
    const badTo = [...items]
    badTo[5] = new Uint8Array(19)
    expect(() => decodeTransaction(rlpEncode(badTo))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_FIELD' }),
    )
    const leadingZero = [...items]
    leadingZero[2] = Uint8Array.of(0, 1)
    expect(() => decodeTransaction(rlpEncode(leadingZero))).toThrow(
      expect.objectContaining({ code: 'ERR_NON_CANONICAL' }),
    )
    expect(() => decodeTransaction(rlpEncode(Uint8Array.of(1, 2)))).toThrow(
      expect.objectContaining({ code: 'ERR_DECODE' }),
    )
    expect(() => decodeTransaction(rlpEncode([]))).toThrow(
      expect.objectContaining({ code: 'ERR_FIELD_COUNT' }),
    )
    // stake with a BLS key but no PoP
    const stake = signTransaction(
      { kind: TxKind.Stake, chainId: 1n, nonce: 0n, gasPrice: 1n, gasLimit: 200_000n, amount: 1n },
      alice.sk,
    )
    const s = transactionToItem(stake) as RLPItem[]
    s[6] = new Uint8Array(48)
    expect(() => decodeTransaction(rlpEncode(s))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_FIELD' }),
    )
    expect(() => encodeTransaction({ ...tx, signature: new Uint8Array(3) } as Transaction)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_FIELD' }),
    )
    expect(() =>
      encodeTransaction({ ...tx, senderPublicKey: new Uint8Array(3) } as Transaction),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_FIELD' }))
    expect(() => encodeTransaction({ ...tx, kind: 7 } as unknown as Transaction)).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_KIND' }),
    )
    expect(() => encodeTransaction({ ...tx, to: new Uint8Array(2) } as Transaction)).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_ADDRESS' }),
    )
    expect(() => encodeTransaction({ ...tx, amount: MAX_U128 + 1n } as Transaction)).toThrow(
      expect.objectContaining({ code: 'ERR_AMOUNT_OUT_OF_RANGE' }),
    )
  })
})

describe('[Transaction]: signing', () => {
  it('payload is domain-separated and binds the chain id', () => {
    const u: UnsignedTransaction = {
      kind: TxKind.Transfer,
      chainId: 1n,
      nonce: 0n,
      gasPrice: 1n,
      gasLimit: 21_000n,
      to: bob.address,
      amount: 5n,
    }
    const p1 = signingPayload(u, alice.pk)
    const p2 = signingPayload({ ...u, chainId: 2n }, alice.pk)
    expect(p1).not.toEqual(p2)
    const first = rlpDecodeStrict(p1, 1000, 'p') as Uint8Array[]
    expect(new TextDecoder().decode(first[0])).toBe('aureon/tx/v1')
    const tx = signTransaction(u, alice.sk)
    expect(ed25519.verify(tx.signature, p1, alice.pk)).toBe(true)
    // a signature for chain 1 does not verify on chain 2
    const replay = decodeTransaction(encodeTransaction({ ...tx, chainId: 2n } as Transaction))
    expect(verifyTransactionSignature(replay)).toBe(false)
    expect(transactionSender(tx)).toEqual(alice.address)
  })
})

describe('[Transaction]: validation', () => {
  it('intrinsic gas and costs per kind', () => {
    const base = { chainId: 1n, nonce: 0n, gasPrice: 2n, gasLimit: 100n }
    expect(intrinsicGas({ ...base, kind: TxKind.Transfer, to: bob.address, amount: 1n })).toBe(
      21_000n,
    )
    const deploy = {
      ...base,
      kind: TxKind.ContractDeploy,
      code: new Uint8Array(10),
      args: new Uint8Array(2),
      value: 3n,
    } as const
    expect(intrinsicGas(deploy)).toBe(21_000n + 32_000n + 16n * 12n + 200n * 10n)
    const call = {
      ...base,
      kind: TxKind.ContractCall,
      contract: bob.address,
      function: 'go',
      args: new Uint8Array(3),
      value: 4n,
    } as const
    expect(intrinsicGas(call)).toBe(21_000n + 16n * 5n)
    expect(intrinsicGas({ ...base, kind: TxKind.Stake, amount: 1n })).toBe(50_000n)
    expect(
      intrinsicGas({
        ...base,
        kind: TxKind.Stake,
        amount: 1n,
        blsPublicKey: new Uint8Array(48),
        blsPop: new Uint8Array(96),
      }),
    ).toBe(150_000n)
    expect(intrinsicGas({ ...base, kind: TxKind.Unstake, amount: 1n })).toBe(50_000n)
    expect(txValue(deploy)).toBe(3n)
    expect(txValue(call)).toBe(4n)
    expect(txValue({ ...base, kind: TxKind.Unstake, amount: 9n })).toBe(0n)
    expect(maxCost(call)).toBe(4n + 200n)
    expect(() => intrinsicGas({ ...base, kind: 9 } as unknown as UnsignedTransaction)).toThrow()
  })

  it('stable codes for each refusal', () => {
    const code = (tx: Transaction, v = V) => {
      try {
        validateTransactionStateless(tx, v)
        return 'ok'
      } catch (e) {
        return (e as { code: string }).code
      }
    }
    expect(code(transfer(alice, bob.address, 0n))).toBe('ok')
    expect(code(transfer(alice, bob.address, 0n, 1n, { chainId: 2n }))).toBe('ERR_WRONG_CHAIN_ID')
    expect(code(transfer(alice, bob.address, 0n, 1n, { gasLimit: 20_999n }))).toBe(
      'ERR_INTRINSIC_GAS',
    )
    expect(code(transfer(alice, bob.address, 0n, 1n, { gasLimit: 40_000_000n }))).toBe(
      'ERR_GAS_LIMIT_EXCEEDS_BLOCK',
    )
    expect(code(transfer(alice, bob.address, 0n), { ...V, minGasPrice: 5n } as typeof V)).toBe(
      'ERR_GAS_PRICE_TOO_LOW',
    )
    expect(code(transfer(alice, bob.address, 0n, MAX_U128))).toBe('ERR_AMOUNT_OUT_OF_RANGE')
    const big = signTransaction(
      {
        kind: TxKind.ContractDeploy,
        chainId: 1n,
        nonce: 0n,
        gasPrice: 0n,
        gasLimit: 30_000_000n,
        code: new Uint8Array(MAX_CODE_SIZE + 1),
        args: new Uint8Array(0),
        value: 0n,
      },
      alice.sk,
    )
    expect(code(big)).toBe('ERR_CODE_TOO_LARGE')
    const huge = signTransaction(
      {
        kind: TxKind.ContractDeploy,
        chainId: 1n,
        nonce: 0n,
        gasPrice: 0n,
        gasLimit: 30_000_000n,
        code: new Uint8Array(10),
        args: new Uint8Array(700_000),
        value: 0n,
      },
      alice.sk,
    )
    expect(code(huge)).toBe('ERR_TX_TOO_LARGE')
    const longFn = signTransaction(
      {
        kind: TxKind.ContractCall,
        chainId: 1n,
        nonce: 0n,
        gasPrice: 0n,
        gasLimit: 30_000n,
        contract: bob.address,
        function: 'x'.repeat(200),
        args: new Uint8Array(0),
        value: 0n,
      },
      alice.sk,
    )
    expect(code(longFn)).toBe('ERR_INVALID_FIELD')
    const halfBls = {
      ...signTransaction(
        {
          kind: TxKind.Stake,
          chainId: 1n,
          nonce: 0n,
          gasPrice: 0n,
          gasLimit: 200_000n,
          amount: 1n,
        },
        alice.sk,
      ),
      blsPublicKey: new Uint8Array(48),
    } as Transaction
    expect(code(halfBls)).toBe('ERR_BAD_BLS_KEY')
  })
})
