import { getImplementation } from '@chainsafe/bls/getImplementation'
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { describe, expect, it } from 'vitest'
import {
  type BLS,
  BLS_POP_DST,
  BLS_SIGNATURE_DST,
  bls,
  blsFallbackReason,
  bytesToHex,
  CryptoErrorCode,
  createBLS,
  hexToBytes,
  isCryptoError,
  utf8ToBytes,
} from '../src/index.js'
import { loadVectors } from './vectors.js'

const h = (s: string) => hexToBytes(s)
const backends: [string, () => Promise<BLS>][] = [
  ['default', async () => bls],
  ['herumi', async () => createBLS(await getImplementation('herumi'))],
]

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    return isCryptoError(e) ? e.code : String(e)
  }
  return undefined
}

describe('[bls]: backend', () => {
  it.skipIf(process.env.AUREON_BLS_IMPL === 'herumi')('loads native blst here', () => {
    expect(bls.implementation).toBe('blst-native')
    expect(blsFallbackReason).toBeUndefined()
  })
  it.runIf(process.env.AUREON_BLS_IMPL === 'herumi')(
    'AUREON_BLS_IMPL=herumi selects herumi',
    () => {
      expect(bls.implementation).toBe('herumi')
    },
  )
})

describe.each(backends)('[bls %s]: consensus-spec-tests vectors', (_name, make) => {
  it('sign', async () => {
    const b = await make()
    for (const v of loadVectors('bls-sign.json').vectors) {
      if (v.output === null) {
        expect(
          codeOf(() => b.sign(h(v.input.message), h(v.input.privkey))),
          v.name,
        ).toBe(CryptoErrorCode.INVALID_SECRET_KEY)
      } else {
        expect(bytesToHex(b.sign(h(v.input.message), h(v.input.privkey))), v.name).toBe(v.output)
      }
    }
  })
  it('verify', async () => {
    const b = await make()
    for (const v of loadVectors('bls-verify.json').vectors) {
      const { pubkey, message, signature } = v.input
      expect(b.verify(h(signature), h(message), h(pubkey)), v.name).toBe(v.output)
    }
  })
  it('aggregate', async () => {
    const b = await make()
    for (const v of loadVectors('bls-aggregate.json').vectors) {
      if (v.output === null) {
        expect(
          codeOf(() => b.aggregateSignatures(v.input.map(h))),
          v.name,
        ).toBe(CryptoErrorCode.INVALID_SIGNATURE)
      } else {
        expect(bytesToHex(b.aggregateSignatures(v.input.map(h))), v.name).toBe(v.output)
      }
    }
  })
  it('aggregate_verify', async () => {
    const b = await make()
    for (const v of loadVectors('bls-aggregate_verify.json').vectors) {
      const { pubkeys, messages, signature } = v.input
      let sig: Uint8Array
      try {
        sig = h(signature)
      } catch {
        sig = new Uint8Array()
      }
      expect(b.aggregateVerify(sig, messages.map(h), pubkeys.map(h)), v.name).toBe(v.output)
    }
  })
  it('fast_aggregate_verify', async () => {
    const b = await make()
    for (const v of loadVectors('bls-fast_aggregate_verify.json').vectors) {
      const { pubkeys, message, signature } = v.input
      expect(b.fastAggregateVerify(h(signature), h(message), pubkeys.map(h)), v.name).toBe(v.output)
    }
  })
})

describe.each(backends)('[bls %s]: decoded public keys', (_name, make) => {
  it('verify vectors through decodePublicKey + verifyDecoded', async () => {
    const b = await make()
    for (const v of loadVectors('bls-verify.json').vectors) {
      const { pubkey, message, signature } = v.input
      let key: ReturnType<BLS['decodePublicKey']>
      try {
        key = b.decodePublicKey(h(pubkey))
      } catch (e) {
        expect(isCryptoError(e) && e.code, v.name).toBe(CryptoErrorCode.INVALID_PUBLIC_KEY)
        expect(v.output, v.name).toBe(false)
        continue
      }
      expect(b.verifyDecoded(h(signature), h(message), key), v.name).toBe(v.output)
    }
  })
  it('fast_aggregate_verify vectors through aggregateDecodedPublicKeys', async () => {
    const b = await make()
    for (const v of loadVectors('bls-fast_aggregate_verify.json').vectors) {
      const { pubkeys, message, signature } = v.input
      let ok: boolean
      try {
        const agg = b.aggregateDecodedPublicKeys(
          pubkeys.map((p: string) => b.decodePublicKey(h(p))),
        )
        ok = b.verifyDecoded(h(signature), h(message), agg)
      } catch (e) {
        expect(isCryptoError(e) && e.code, v.name).toBe(CryptoErrorCode.INVALID_PUBLIC_KEY)
        ok = false
      }
      expect(ok, v.name).toBe(v.output)
    }
  })
  it('agrees with the byte API and refuses foreign or degenerate handles', async () => {
    const b = await make()
    const msg = utf8ToBytes('qc 9')
    const sks = [b.randomSecretKey(), b.randomSecretKey(), b.randomSecretKey()]
    const pks = sks.map((sk) => b.getPublicKey(sk))
    const keys = pks.map((pk) => b.decodePublicKey(pk))
    expect(keys[0].bytes).toEqual(pks[0])
    const agg = b.aggregateDecodedPublicKeys(keys)
    expect(agg.bytes).toEqual(b.aggregatePublicKeys(pks))
    expect(b.aggregateDecodedPublicKeys([keys[1]])).toBe(keys[1])
    const sig = b.aggregateSignatures(sks.map((sk) => b.sign(msg, sk)))
    expect(b.verifyDecoded(sig, msg, agg)).toBe(true)
    // the same sum without per-share subgroup checks (the aggregate is checked when verified)
    expect(
      b.aggregateSignatures(
        sks.map((sk) => b.sign(msg, sk)),
        { subgroupCheck: false },
      ),
    ).toEqual(sig)
    for (const bad of [new Uint8Array(96).fill(0xaa), new Uint8Array(95), 'x' as any]) {
      expect(codeOf(() => b.aggregateSignatures([sig, bad], { subgroupCheck: false }))).toBe(
        CryptoErrorCode.INVALID_SIGNATURE,
      )
    }
    expect(b.verifyDecoded(sig, utf8ToBytes('qc 8'), agg)).toBe(false)
    expect(b.verifyDecoded(sig, msg, b.aggregateDecodedPublicKeys(keys.slice(1)))).toBe(false)
    expect(b.verifyDecoded(b.sign(msg, sks[0]), msg, keys[0])).toBe(true)
    expect(b.verifyDecoded(sig.subarray(1), msg, agg)).toBe(false)
    expect(b.verifyDecoded(new Uint8Array(96).fill(0xff), msg, agg)).toBe(false)
    const inf = new Uint8Array(96)
    inf[0] = 0xc0
    expect(b.verifyDecoded(inf, msg, agg)).toBe(false)
    expect(b.verifyDecoded(sig, 'm' as any, agg)).toBe(false)
    // handles are opaque: a look-alike or another BLS object's handle is refused
    const fake = { bytes: pks[0] } as unknown as ReturnType<BLS['decodePublicKey']>
    expect(b.verifyDecoded(sig, msg, fake)).toBe(false)
    expect(codeOf(() => b.aggregateDecodedPublicKeys([keys[0], fake]))).toBe(
      CryptoErrorCode.INVALID_PUBLIC_KEY,
    )
    const other = b === bls ? createBLS(await getImplementation('herumi')) : bls
    expect(other.verifyDecoded(sig, msg, agg)).toBe(false)
    expect(codeOf(() => b.aggregateDecodedPublicKeys([]))).toBe(CryptoErrorCode.INVALID_PUBLIC_KEY)
    expect(codeOf(() => b.decodePublicKey(new Uint8Array(48).fill(0xaa)))).toBe(
      CryptoErrorCode.INVALID_PUBLIC_KEY,
    )
    // a key and its negation sum to infinity (a rogue-key pair; PoP keeps it out of real sets)
    const neg = Uint8Array.from(pks[0])
    neg[0] ^= 0x20
    expect(codeOf(() => b.aggregateDecodedPublicKeys([keys[0], b.decodePublicKey(neg)]))).toBe(
      CryptoErrorCode.INVALID_PUBLIC_KEY,
    )
  })
})

describe.each(backends)('[bls %s]: keys, aggregation, batches, PoP', (_name, make) => {
  it('round trips and aggregates', async () => {
    const b = await make()
    const msg = utf8ToBytes('block 7')
    const sks = [b.randomSecretKey(), b.randomSecretKey(), b.randomSecretKey()]
    const pks = sks.map((sk) => b.getPublicKey(sk))
    const sigs = sks.map((sk) => b.sign(msg, sk))
    expect(pks[0].length).toBe(48)
    expect(sigs[0].length).toBe(96)
    expect(b.verify(sigs[0], msg, pks[0])).toBe(true)
    expect(b.verify(sigs[0], msg, pks[1])).toBe(false)
    const agg = b.aggregateSignatures(sigs)
    expect(b.fastAggregateVerify(agg, msg, pks)).toBe(true)
    expect(b.fastAggregateVerify(agg, msg, pks.slice(1))).toBe(false)
    expect(b.fastAggregateVerify(agg, msg, [])).toBe(false)
    const aggPk = b.aggregatePublicKeys(pks)
    expect(b.verify(agg, msg, aggPk)).toBe(true)
    const msgs = [utf8ToBytes('a'), utf8ToBytes('b'), utf8ToBytes('c')]
    const sets = sks.map((sk, i) => ({
      publicKey: pks[i],
      message: msgs[i],
      signature: b.sign(msgs[i], sk),
    }))
    expect(b.verifyMultipleSignatures(sets)).toBe(true)
    expect(b.aggregateVerify(b.aggregateSignatures(sets.map((s) => s.signature)), msgs, pks)).toBe(
      true,
    )
    expect(b.aggregateVerify(agg, msgs, pks.slice(1))).toBe(false)
    const bad = [...sets]
    bad[1] = { ...bad[1], message: utf8ToBytes('x') }
    expect(b.verifyMultipleSignatures(bad)).toBe(false)
    expect(b.verifyMultipleSignatures([])).toBe(false)
    expect(b.verify(sigs[0], 'x' as any, pks[0])).toBe(false)
    expect(b.verify(sigs[0].subarray(1), msg, pks[0])).toBe(false)
    expect(b.verify(new Uint8Array(96).fill(0xff), msg, pks[0])).toBe(false)
    expect(b.verify(sigs[0], msg, new Uint8Array(48).fill(0xff))).toBe(false)
  })
  it('refuses bad keys with coded errors', async () => {
    const b = await make()
    expect(codeOf(() => b.getPublicKey(new Uint8Array(31)))).toBe(
      CryptoErrorCode.INVALID_SECRET_KEY,
    )
    expect(codeOf(() => b.getPublicKey(new Uint8Array(32).fill(0xff)))).toBe(
      CryptoErrorCode.INVALID_SECRET_KEY,
    )
    expect(codeOf(() => b.getPublicKey('k' as any))).toBe(CryptoErrorCode.INVALID_SECRET_KEY)
    expect(codeOf(() => b.aggregatePublicKeys([]))).toBe(CryptoErrorCode.INVALID_PUBLIC_KEY)
    const inf = new Uint8Array(48)
    inf[0] = 0xc0
    expect(codeOf(() => b.aggregatePublicKeys([inf]))).toBe(CryptoErrorCode.INVALID_PUBLIC_KEY)
    expect(codeOf(() => b.aggregatePublicKeys([new Uint8Array(47)]))).toBe(
      CryptoErrorCode.INVALID_PUBLIC_KEY,
    )
    expect(codeOf(() => b.aggregatePublicKeys([new Uint8Array(48).fill(0xaa)]))).toBe(
      CryptoErrorCode.INVALID_PUBLIC_KEY,
    )
    expect(codeOf(() => b.aggregateSignatures([new Uint8Array(96).fill(0xaa)]))).toBe(
      CryptoErrorCode.INVALID_SIGNATURE,
    )
    expect(codeOf(() => b.sign('m' as any, b.randomSecretKey()))).toBe(
      CryptoErrorCode.INVALID_LENGTH,
    )
  })
  it('proof of possession (POP DST, not the signature DST)', async () => {
    const b = await make()
    const sk = b.randomSecretKey()
    const pk = b.getPublicKey(sk)
    const proof = b.popProve(sk)
    expect(proof.length).toBe(96)
    expect(b.popVerify(pk, proof)).toBe(true)
    expect(b.popVerify(b.getPublicKey(b.randomSecretKey()), proof)).toBe(false)
    // a signature over the key bytes is not a proof of possession
    expect(b.popVerify(pk, b.sign(pk, sk))).toBe(false)
    expect(b.popVerify(pk, proof.subarray(1))).toBe(false)
  })
})

describe('[bls]: cross-check with @noble/curves', () => {
  it('blst signatures equal noble signatures under the POP ciphersuite DST', () => {
    const sk = bls.randomSecretKey()
    const msg = utf8ToBytes('cross')
    const n = bls12_381.longSignatures
    const nobleSig = n.Signature.toBytes(n.sign(n.hash(msg, BLS_SIGNATURE_DST), sk))
    expect(bls.sign(msg, sk)).toEqual(nobleSig)
    expect(BLS_POP_DST).toMatch(/^BLS_POP_/)
  })
})
