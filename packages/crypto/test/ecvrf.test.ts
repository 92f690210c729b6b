import { ED25519_TORSION_SUBGROUP, ed25519 as noble } from '@noble/curves/ed25519.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  _ecvrfInternals,
  bytesToHex,
  CryptoErrorCode,
  concatBytes,
  ED25519_L,
  ED25519_P,
  ecvrf,
  ed25519,
  hexToBytes,
  isCryptoError,
  sha512,
  utf8ToBytes,
} from '../src/index.js'
import { loadVectors } from './vectors.js'

const tai = loadVectors('ecvrf-edwards25519-sha512-tai.json')
const ell2 = loadVectors('ecvrf-edwards25519-sha512-elligator2.json')
const hex = (b: Uint8Array) => bytesToHex(b).slice(2)

function leBytes(n: bigint, len = 32): Uint8Array {
  const out = new Uint8Array(len)
  for (let i = 0; i < len; i++) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}

describe('[ECVRF]: RFC 9381 B.3 vectors (suite 0x03)', () => {
  it.each((tai.vectors as any[]).map((v: any) => [v.name, v] as [string, any]))(
    '%s',
    (_n, v: any) => {
      const sk = hexToBytes(v.sk)
      const alpha = hexToBytes(v.alpha)
      const { x, pk } = _ecvrfInternals.expandSecretKey(sk)
      expect(hex(pk)).toBe(v.pk)
      expect(hex(ed25519.getPublicKey(sk))).toBe(v.pk)
      expect(hex(leBytes(x))).toBe(
        hex(leBytes(BigInt(`0x${v.x.match(/../g).reverse().join('')}`) % ED25519_L)),
      )
      const H = _ecvrfInternals.encodeToCurve(pk, alpha)
      expect(hex(H.toBytes())).toBe(v.h)
      // nonce (RFC 9381 5.4.2.2) and the U = kB, V = kH of the challenge
      const { prefix } = _ecvrfInternals.expandSecretKey(sk)
      const kString = sha512(concatBytes(prefix, H.toBytes()))
      expect(hex(kString)).toBe(v.k_string)
      let k = 0n
      for (let i = 63; i >= 0; i--) k = (k << 8n) | BigInt(kString[i])
      k %= ED25519_L
      expect(hex(leBytes(k))).toBe(v.k)
      expect(hex(noble.Point.BASE.multiply(k).toBytes())).toBe(v.u)
      expect(hex(H.multiply(k).toBytes())).toBe(v.v)
      const pi = ecvrf.prove(sk, alpha)
      expect(hex(pi)).toBe(v.pi)
      expect(hex(ecvrf.proofToHash(pi))).toBe(v.beta)
      const r = ecvrf.verify(pk, pi, alpha)
      expect(r.valid).toBe(true)
      if (r.valid) expect(hex(r.beta)).toBe(v.beta)
    },
  )

  it('refuses the suite 0x04 (elligator2) proofs of the same keys', () => {
    for (const v of ell2.vectors) {
      const r = ecvrf.verify(hexToBytes(v.pk), hexToBytes(v.pi), hexToBytes(v.alpha))
      expect(r.valid).toBe(false)
    }
  })
})

describe('[ECVRF]: malformed proofs are refused without throwing', () => {
  const v = tai.vectors[1]
  const pk = hexToBytes(v.pk)
  const pi = hexToBytes(v.pi)
  const alpha = hexToBytes(v.alpha)
  const withGamma = (g: Uint8Array) => Uint8Array.from([...g, ...pi.subarray(32)])
  let s = 0n
  for (let i = 79; i >= 48; i--) s = (s << 8n) | BigInt(pi[i])
  const cases: [string, Uint8Array, Uint8Array, Uint8Array, RegExp][] = [
    ['short proof', pk, pi.subarray(1), alpha, /80 bytes/],
    ['long proof', pk, Uint8Array.from([...pi, 0]), alpha, /80 bytes/],
    [
      's + L (non-canonical scalar)',
      pk,
      Uint8Array.from([...pi.subarray(0, 48), ...leBytes(s + ED25519_L)]),
      alpha,
      /s >= L/,
    ],
    [
      's = 2^256 - 1',
      pk,
      Uint8Array.from([...pi.subarray(0, 48), ...new Uint8Array(32).fill(0xff)]),
      alpha,
      /s >= L/,
    ],
    ['Gamma y >= p', pk, withGamma(leBytes(ED25519_P + 1n)), alpha, /Gamma is not/],
    ['Gamma not on the curve', pk, withGamma(leBytes(2n)), alpha, /Gamma is not/],
    [
      'Gamma small order',
      pk,
      withGamma(hexToBytes(ED25519_TORSION_SUBGROUP[1])),
      alpha,
      /small order/,
    ],
    [
      'Gamma identity',
      pk,
      withGamma(hexToBytes(ED25519_TORSION_SUBGROUP[0])),
      alpha,
      /small order/,
    ],
    [
      'c tampered',
      pk,
      (() => {
        const p = pi.slice()
        p[40] ^= 1
        return p
      })(),
      alpha,
      /challenge/,
    ],
    ['other alpha', pk, pi, utf8ToBytes('other'), /challenge/],
    ['other key', ed25519.getPublicKey(new Uint8Array(32)), pi, alpha, /challenge/],
    [
      'small-order key',
      hexToBytes(ED25519_TORSION_SUBGROUP[3]),
      pi,
      alpha,
      /public key is of small order/,
    ],
    ['non-canonical key', leBytes(ED25519_P + 3n), pi, alpha, /public key is not/],
    ['short key', pk.subarray(1), pi, alpha, /32 bytes/],
    ['alpha not bytes', pk, pi, 'x' as any, /alpha/],
    ['proof not bytes', pk, 'x' as any, alpha, /80 bytes/],
  ]
  it.each(cases)('%s', (_n, key, proof, a, reason) => {
    const r = ecvrf.verify(key, proof, a)
    expect(r.valid).toBe(false)
    if (!r.valid) expect(r.reason).toMatch(reason)
  })

  it('proofToHash refuses undecodable proofs with ERR_INVALID_PROOF', () => {
    for (const p of [pi.subarray(2), withGamma(leBytes(2n))]) {
      try {
        ecvrf.proofToHash(p)
        expect.unreachable()
      } catch (e) {
        expect(isCryptoError(e) && e.code).toBe(CryptoErrorCode.INVALID_PROOF)
      }
    }
  })

  it('prove refuses bad keys and inputs', () => {
    expect(() => ecvrf.prove(new Uint8Array(31), alpha)).toThrow(/32-byte ed25519 seed/)
    expect(() => ecvrf.prove('k' as any, alpha)).toThrow(/32-byte ed25519 seed/)
    expect(() => ecvrf.prove(new Uint8Array(32), 'x' as any)).toThrow(/alpha/)
  })
})

describe('[ECVRF]: properties', () => {
  it('prove/verify round trip; beta = proofToHash; any bit flip is refused', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 48 }),
        fc.nat(80 * 8 - 1),
        (sk, alpha, bit) => {
          const pk = ed25519.getPublicKey(sk)
          const pi = ecvrf.prove(sk, alpha)
          expect(ecvrf.prove(sk, alpha)).toEqual(pi)
          const r = ecvrf.verify(pk, pi, alpha)
          expect(r.valid).toBe(true)
          if (r.valid) expect(r.beta).toEqual(ecvrf.proofToHash(pi))
          const bad = pi.slice()
          bad[bit >> 3] ^= 1 << (bit & 7)
          expect(ecvrf.verify(pk, bad, alpha).valid).toBe(false)
        },
      ),
      { numRuns: 25 },
    )
  })
})
