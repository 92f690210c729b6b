import { createPublicKey, verify as nodeVerify } from 'node:crypto'
import { ED25519_TORSION_SUBGROUP, ed25519 as noble } from '@noble/curves/ed25519.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  bytesToHex,
  CryptoErrorCode,
  ED25519_L,
  ED25519_P,
  ED25519_SMALL_ORDER_ENCODINGS,
  ed25519,
  ed25519PreCheck,
  hexToBytes,
  isCanonicalEd25519Encoding,
  isCanonicalEd25519Scalar,
  isCryptoError,
  utf8ToBytes,
} from '../src/index.js'
import { loadVectors } from './vectors.js'

const rfc = loadVectors('ed25519-rfc8032.json')
const speccheck = loadVectors('ed25519-speccheck.json')

/** The verdict of Aureon's pinned rule on each speccheck case (see docs/crypto.md). */
const PINNED = [false, false, false, true, false, false, false, false, false, false, false, false]
const REASON = [
  'small-order-a', // 0: small A and R
  'small-order-a', // 1: small A
  'small-order-r', // 2: small R
  null, // 3: mixed A and R, cofactorless equation holds
  null, // 4: cofactorless equation fails
  null, // 5: cofactorless equation fails
  'non-canonical-s', // 6: S > L
  'non-canonical-s', // 7: S >> L
  'non-canonical-r', // 8
  'non-canonical-r', // 9
  'non-canonical-a', // 10
  'non-canonical-a', // 11
]

function leBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}

function rawNodeVerify(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  try {
    const key = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]),
      format: 'der',
      type: 'spki',
    })
    return nodeVerify(null, msg, key, sig)
  } catch {
    return false
  }
}

describe('[ed25519]: RFC 8032 vectors', () => {
  it.each((rfc.vectors as any[]).map((v: any) => [v.name, v] as [string, any]))(
    '%s',
    (_name, v: any) => {
      const sk = hexToBytes(v.sk)
      const msg = hexToBytes(v.msg)
      expect(bytesToHex(ed25519.getPublicKey(sk))).toBe(`0x${v.pk}`)
      const sig = ed25519.sign(msg, sk)
      expect(bytesToHex(sig)).toBe(`0x${v.sig}`)
      expect(ed25519.verify(sig, msg, hexToBytes(v.pk))).toBe(true)
      expect(ed25519.verifyReference(sig, msg, hexToBytes(v.pk))).toBe(true)
      const bad = sig.slice()
      bad[5] ^= 1
      expect(ed25519.verify(bad, msg, hexToBytes(v.pk))).toBe(false)
      expect(ed25519.verifyReference(bad, msg, hexToBytes(v.pk))).toBe(false)
    },
  )
})

describe('[ed25519]: speccheck ("Taming the many EdDSAs") under the pinned rule', () => {
  it.each((speccheck.vectors as any[]).map((v: any) => [v.case, v] as [number, any]))(
    'case %i',
    (c, v: any) => {
      const sig = hexToBytes(v.signature)
      const msg = hexToBytes(v.message)
      const pk = hexToBytes(v.pub_key)
      expect(ed25519.verify(sig, msg, pk)).toBe(PINNED[c as number])
      expect(ed25519.verifyReference(sig, msg, pk)).toBe(PINNED[c as number])
      expect(ed25519PreCheck(sig, pk)).toBe(REASON[c as number])
    },
  )

  it('node:crypto alone differs by OpenSSL version (why the pre-check exists)', () => {
    const row = speccheck.vectors
      .map((v: any) =>
        rawNodeVerify(hexToBytes(v.signature), hexToBytes(v.message), hexToBytes(v.pub_key))
          ? 'V'
          : 'X',
      )
      .join('')
    // Node 20 ships OpenSSL 3.0 (the published row); Node 24 ships OpenSSL 3.5, which already
    // refuses small-order and non-canonical keys. The pinned rule gives one answer on both.
    const expected: Record<string, string> = {
      '3.0': speccheck.expectations.reported_results['OpenSSL-3.0'].join(''),
      '3.5': 'XXXVXXXXXXXX',
    }
    const ossl = process.versions.openssl.split('.').slice(0, 2).join('.')
    if (expected[ossl] !== undefined) expect(row).toBe(expected[ossl])
    expect(['VVVVXXXXXXXV', 'XXXVXXXXXXXX']).toContain(row)
  })

  it('the cases node:crypto accepts but the rule refuses are all caught by the pre-check', () => {
    for (const v of speccheck.vectors) {
      const sig = hexToBytes(v.signature)
      const pk = hexToBytes(v.pub_key)
      const raw = rawNodeVerify(sig, hexToBytes(v.message), pk)
      if (raw && !PINNED[v.case]) expect(ed25519PreCheck(sig, pk)).not.toBeNull()
    }
  })
})

describe('[ed25519]: encoding checks', () => {
  it('the small-order list is exactly the torsion subgroup (re-derived with noble)', () => {
    const mine = ED25519_SMALL_ORDER_ENCODINGS.map((b) => bytesToHex(b).slice(2)).sort()
    expect(mine).toEqual([...ED25519_TORSION_SUBGROUP].sort())
    for (const b of ED25519_SMALL_ORDER_ENCODINGS) {
      const p = noble.Point.fromBytes(b)
      expect(p.isSmallOrder()).toBe(true)
      expect(p.toBytes()).toEqual(b)
    }
  })

  it('refuses y >= p and x = 0 with the sign bit, accepts y < p', () => {
    for (let k = 0n; k < 19n; k++) {
      expect(isCanonicalEd25519Encoding(leBytes(ED25519_P + k))).toBe(false)
      const hi = leBytes(ED25519_P + k)
      hi[31] |= 0x80
      expect(isCanonicalEd25519Encoding(hi)).toBe(false)
    }
    expect(isCanonicalEd25519Encoding(leBytes(ED25519_P - 1n))).toBe(true)
    const y1 = leBytes(1n)
    expect(isCanonicalEd25519Encoding(y1)).toBe(true)
    y1[31] |= 0x80
    expect(isCanonicalEd25519Encoding(y1)).toBe(false)
    const yNeg1 = leBytes(ED25519_P - 1n)
    yNeg1[31] |= 0x80
    expect(isCanonicalEd25519Encoding(yNeg1)).toBe(false)
  })

  it('agrees with noble strict decoding on which encodings are canonical', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 255n - 1n }), fc.boolean(), (y, sign) => {
        const b = leBytes(y)
        if (sign) b[31] |= 0x80
        let nobleOk: boolean
        try {
          noble.Point.fromBytes(b, false)
          nobleOk = true
        } catch (e) {
          // not on the curve is not an encoding question
          nobleOk = !/point\.y|x=0/.test(String(e))
        }
        expect(isCanonicalEd25519Encoding(b)).toBe(nobleOk)
      }),
      { numRuns: 300 },
    )
  })

  it('S < L', () => {
    expect(isCanonicalEd25519Scalar(leBytes(ED25519_L - 1n))).toBe(true)
    expect(isCanonicalEd25519Scalar(leBytes(ED25519_L))).toBe(false)
    expect(isCanonicalEd25519Scalar(leBytes(ED25519_L + 1n))).toBe(false)
    expect(isCanonicalEd25519Scalar(leBytes(0n))).toBe(true)
    expect(isCanonicalEd25519Scalar(leBytes(2n ** 256n - 1n))).toBe(false)
  })
})

describe('[ed25519]: keys and signatures', () => {
  it('sign/verify round trip, and verify never throws', () => {
    const sk = ed25519.randomSecretKey()
    const pk = ed25519.getPublicKey(sk)
    expect(pk.length).toBe(32)
    expect(pk.constructor).toBe(Uint8Array)
    const msg = utf8ToBytes('hello')
    const sig = ed25519.sign(msg, sk)
    expect(sig.length).toBe(64)
    expect(ed25519.verify(sig, msg, pk)).toBe(true)
    expect(ed25519.verify(sig, utf8ToBytes('hellO'), pk)).toBe(false)
    expect(ed25519.verify(sig.subarray(1), msg, pk)).toBe(false)
    expect(ed25519.verify(sig, msg, pk.subarray(1))).toBe(false)
    expect(ed25519.verify('x' as any, msg, pk)).toBe(false)
    expect(ed25519.verify(sig, 'hello' as any, pk)).toBe(false)
    expect(ed25519.verifyReference(sig, 'hello' as any, pk)).toBe(false)
    expect(ed25519.verifyReference(sig.subarray(1), msg, pk)).toBe(false)
    expect(ed25519.verifyReference(sig, msg, pk.subarray(1))).toBe(false)
    // a y with no curve point
    const offCurve = leBytes(2n)
    expect(ed25519.verify(sig, msg, offCurve)).toBe(false)
    expect(ed25519.verifyReference(sig, msg, offCurve)).toBe(false)
  })

  it('refuses bad secret keys without printing them', () => {
    const sk = new Uint8Array(31).fill(0xab)
    try {
      ed25519.getPublicKey(sk)
      expect.unreachable()
    } catch (e) {
      expect(isCryptoError(e) && e.code).toBe(CryptoErrorCode.INVALID_SECRET_KEY)
      expect(String((e as Error).message)).not.toMatch(/abab/)
    }
    expect(() => ed25519.sign(new Uint8Array(1), 'k' as any)).toThrow(/32-byte seed/)
  })

  it('many keys: cached key objects stay correct past the cache bound', () => {
    const msg = utf8ToBytes('m')
    for (let i = 0; i < 5000; i++) {
      const sk = new Uint8Array(32)
      sk[0] = i & 0xff
      sk[1] = i >> 8
      if (i % 500 === 0) {
        const pk = ed25519.getPublicKey(sk)
        expect(ed25519.verify(ed25519.sign(msg, sk), msg, pk)).toBe(true)
      }
    }
    // fill the cache with junk public keys, then check again
    for (let i = 0; i < 4200; i++) {
      const pk = ed25519.getPublicKey(new Uint8Array(32).fill(i % 251))
      if (i < 300) ed25519.verify(new Uint8Array(64), msg, pk)
      else break
    }
    const sk = ed25519.randomSecretKey()
    expect(ed25519.verify(ed25519.sign(msg, sk), msg, ed25519.getPublicKey(sk))).toBe(true)
  })
})

// Candidate encodings for A and R that probe every clause of the rule.
const torsion = ED25519_TORSION_SUBGROUP.map((h) => noble.Point.fromHex(h))

describe('[ed25519]: property: node:crypto path == noble reference path', () => {
  it('agrees on honest, mutated and torsion-shifted signatures', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 7 }),
        fc.constantFrom(
          'honest',
          'shiftA',
          'shiftR',
          'shiftBoth',
          'sPlusL',
          'flip',
          'nonCanonA',
          'smallA',
          'smallR',
        ),
        fc.nat(511),
        (sk, msg, ta, tr, mode, bit) => {
          const pk = ed25519.getPublicKey(sk)
          let sig = ed25519.sign(msg, sk)
          let A = pk
          const R = noble.Point.fromBytes(sig.subarray(0, 32))
          const shift = (p: any, t: number) => p.add(torsion[t]).toBytes()
          switch (mode) {
            case 'shiftA':
              A = shift(noble.Point.fromBytes(pk), ta)
              break
            case 'shiftR':
              sig = Uint8Array.from([...shift(R, tr), ...sig.subarray(32)])
              break
            case 'shiftBoth':
              A = shift(noble.Point.fromBytes(pk), ta)
              sig = Uint8Array.from([...shift(R, tr), ...sig.subarray(32)])
              break
            case 'sPlusL': {
              let s = 0n
              for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i])
              sig = Uint8Array.from([...sig.subarray(0, 32), ...leBytes(s + ED25519_L)])
              break
            }
            case 'flip':
              sig = sig.slice()
              sig[bit >> 3] ^= 1 << (bit & 7)
              break
            case 'nonCanonA':
              A = leBytes(ED25519_P + BigInt(ta % 2))
              break
            case 'smallA':
              A = hexToBytes(ED25519_TORSION_SUBGROUP[ta])
              break
            case 'smallR':
              sig = Uint8Array.from([
                ...hexToBytes(ED25519_TORSION_SUBGROUP[tr]),
                ...sig.subarray(32),
              ])
              break
          }
          const a = ed25519.verify(sig, msg, A)
          const b = ed25519.verifyReference(sig, msg, A)
          expect(a).toBe(b)
          if (mode === 'honest') expect(a).toBe(true)
        },
      ),
      { numRuns: 250 },
    )
  })

  it('agrees on random bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (sig, pk) => {
          expect(ed25519.verify(sig, new Uint8Array(), pk)).toBe(
            ed25519.verifyReference(sig, new Uint8Array(), pk),
          )
        },
      ),
      { numRuns: 200 },
    )
  })
})
