import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto'
import { ed25519 as nobleEd25519 } from '@noble/curves/ed25519.js'
import { concatBytes, hexToBytes, randomBytes } from './bytes.js'
import { CryptoError, CryptoErrorCode } from './errors.js'
import { sha512 } from './hashes.js'
import {
  ED25519_L,
  ED25519_PUBLIC_KEY_LENGTH,
  ED25519_SECRET_KEY_LENGTH,
  ED25519_SIGNATURE_LENGTH,
} from './params.js'

// DER prefixes that wrap a raw 32-byte key for node:crypto (RFC 8410).
const PKCS8_PREFIX = hexToBytes('302e020100300506032b657004220420')
const SPKI_PREFIX = hexToBytes('302a300506032b6570032100')

/**
 * The canonical encodings of the eight points of small order (the torsion subgroup E[8]).
 * test/ed25519.test.ts re-derives this list with @noble/curves point math.
 */
export const ED25519_SMALL_ORDER_ENCODINGS: readonly Uint8Array[] = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '0000000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
].map((h) => hexToBytes(h))

// L as 32 little-endian bytes, for the S < L check without bigint.
const L_BYTES = (() => {
  const out = new Uint8Array(32)
  let l = ED25519_L
  for (let i = 0; i < 32; i++) {
    out[i] = Number(l & 0xffn)
    l >>= 8n
  }
  return out
})()

/** Why a signature fails the pinned rule's encoding checks, or null when they pass. */
export type Ed25519Rejection =
  | 'bad-length'
  | 'non-canonical-s'
  | 'non-canonical-a'
  | 'non-canonical-r'
  | 'small-order-a'
  | 'small-order-r'

/**
 * True when the 32 bytes are the canonical encoding of a field element y < p = 2^255 - 19 and
 * do not set the sign bit of x = 0 (the encodings 0x01..0080 and 0xecff..ffff). Does not check
 * that a point with that y exists.
 */
export function isCanonicalEd25519Encoding(b: Uint8Array): boolean {
  const top = b[31] & 0x7f
  let mid255 = true
  let mid0 = true
  for (let i = 1; i < 31; i++) {
    if (b[i] !== 0xff) mid255 = false
    if (b[i] !== 0) mid0 = false
  }
  // y >= p: y = p + k with k in [0, 18], i.e. 0x7fff...ff(ed..ff)
  if (top === 0x7f && mid255 && b[0] >= 0xed) return false
  const sign = (b[31] & 0x80) !== 0
  if (sign) {
    // x = 0 exactly when y = 1 or y = p - 1; its sign bit must then be clear.
    if (top === 0 && mid0 && b[0] === 1) return false
    if (top === 0x7f && mid255 && b[0] === 0xec) return false
  }
  return true
}

/** True when the (canonical) encoding is one of the eight small-order points. */
export function isSmallOrderEd25519Encoding(b: Uint8Array): boolean {
  outer: for (const t of ED25519_SMALL_ORDER_ENCODINGS) {
    for (let i = 0; i < 32; i++) if (t[i] !== b[i]) continue outer
    return true
  }
  return false
}

/** True when the 32 little-endian bytes encode an integer S < L. */
export function isCanonicalEd25519Scalar(s: Uint8Array, offset = 0): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = s[offset + i]
    const l = L_BYTES[i]
    if (a < l) return true
    if (a > l) return false
  }
  return false // S == L
}

/**
 * The encoding checks of Aureon's pinned ed25519 rule (see docs/crypto.md): lengths, S < L,
 * canonical A and R, neither A nor R of small order. Returns the first failed check or null.
 * The remaining conditions (A and R decode to curve points, [S]B = R + [k]A) are the equation.
 */
export function ed25519PreCheck(
  signature: Uint8Array,
  publicKey: Uint8Array,
): Ed25519Rejection | null {
  if (
    !(signature instanceof Uint8Array) ||
    !(publicKey instanceof Uint8Array) ||
    signature.length !== ED25519_SIGNATURE_LENGTH ||
    publicKey.length !== ED25519_PUBLIC_KEY_LENGTH
  ) {
    return 'bad-length'
  }
  if (!isCanonicalEd25519Scalar(signature, 32)) return 'non-canonical-s'
  if (!isCanonicalEd25519Encoding(publicKey)) return 'non-canonical-a'
  const r = signature.subarray(0, 32)
  if (!isCanonicalEd25519Encoding(r)) return 'non-canonical-r'
  if (isSmallOrderEd25519Encoding(publicKey)) return 'small-order-a'
  if (isSmallOrderEd25519Encoding(r)) return 'small-order-r'
  return null
}

function assertSecretKey(sk: unknown): asserts sk is Uint8Array {
  if (!(sk instanceof Uint8Array) || sk.length !== ED25519_SECRET_KEY_LENGTH) {
    // Never print the key itself, only its shape.
    throw new CryptoError(
      CryptoErrorCode.INVALID_SECRET_KEY,
      `ed25519 secret key must be a ${ED25519_SECRET_KEY_LENGTH}-byte seed (Uint8Array), got ${sk instanceof Uint8Array ? `${sk.length} bytes` : typeof sk}`,
    )
  }
}

function privateKeyObject(sk: Uint8Array): KeyObject {
  assertSecretKey(sk)
  const der = concatBytes(PKCS8_PREFIX, sk)
  try {
    return createPrivateKey({ key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8' })
  } finally {
    der.fill(0)
  }
}

// Bounded cache of imported public keys: importing costs about as much as a verify.
const PK_CACHE_MAX = 4096
const pkCache = new Map<string, KeyObject>()

function publicKeyObject(pk: Uint8Array): KeyObject {
  const id = Buffer.from(pk.buffer, pk.byteOffset, pk.byteLength).toString('base64')
  let key = pkCache.get(id)
  if (key === undefined) {
    key = createPublicKey({
      key: Buffer.from(concatBytes(SPKI_PREFIX, pk).buffer),
      format: 'der',
      type: 'spki',
    })
    if (pkCache.size >= PK_CACHE_MAX) pkCache.clear()
    pkCache.set(id, key)
  }
  return key
}

function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/**
 * A fresh random 32-byte ed25519 secret key (seed).
 *
 * @example
 * const sk = ed25519.randomSecretKey()
 */
function randomSecretKey(): Uint8Array {
  return randomBytes(ED25519_SECRET_KEY_LENGTH)
}

/**
 * The 32-byte public key of a 32-byte seed (RFC 8032).
 *
 * @example
 * const pk = ed25519.getPublicKey(sk)
 */
function getPublicKey(secretKey: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyObject(secretKey)).export({ format: 'der', type: 'spki' })
  return view(spki).slice(SPKI_PREFIX.length)
}

/**
 * A 64-byte RFC 8032 signature (deterministic) of `message` by the seed `secretKey`.
 *
 * @example
 * const sig = ed25519.sign(utf8ToBytes('hello'), sk)
 */
function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return view(nodeSign(null, message, privateKeyObject(secretKey)))
}

/**
 * Verifies under Aureon's pinned rule (docs/crypto.md): S < L, canonical A and R, A and R not
 * of small order, cofactorless [S]B = R + [k]A. Runs the encoding checks, then node:crypto.
 * Never throws: anything malformed is simply invalid.
 *
 * @example
 * ed25519.verify(sig, utf8ToBytes('hello'), pk) // true
 */
function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    if (!(message instanceof Uint8Array)) return false
    if (ed25519PreCheck(signature, publicKey) !== null) return false
    return nodeVerify(null, message, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}

const NoblePoint = nobleEd25519.Point

function bytesToNumberLE(b: Uint8Array): bigint {
  let n = 0n
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i])
  return n
}

/**
 * The pinned rule written out with @noble/curves point math, independent of node:crypto: the
 * reference that `verify` is tested against. About 20x slower than `verify`.
 *
 * @example
 * ed25519.verifyReference(sig, msg, pk) === ed25519.verify(sig, msg, pk) // always
 */
function verifyReference(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    if (!(message instanceof Uint8Array)) return false
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false
    const rBytes = signature.subarray(0, 32)
    const s = bytesToNumberLE(signature.subarray(32))
    if (s >= ED25519_L) return false
    // zip215 = false: y < p and no x = 0 with the sign bit set (RFC 8032 decoding).
    const A = NoblePoint.fromBytes(publicKey, false)
    const R = NoblePoint.fromBytes(rBytes, false)
    if (A.isSmallOrder() || R.isSmallOrder()) return false
    const k = bytesToNumberLE(sha512(concatBytes(rBytes, publicKey, message))) % ED25519_L
    const sB = s === 0n ? NoblePoint.ZERO : NoblePoint.BASE.multiplyUnsafe(s)
    const kA = k === 0n ? NoblePoint.ZERO : A.multiplyUnsafe(k)
    // Cofactorless equation: no multiplication by 8.
    return sB.equals(R.add(kA))
  } catch {
    return false
  }
}

/**
 * Ed25519 (RFC 8032) with one pinned validity rule. Secret keys are 32-byte seeds.
 *
 * @example
 * const sk = ed25519.randomSecretKey()
 * const pk = ed25519.getPublicKey(sk)
 * const sig = ed25519.sign(msg, sk)
 * ed25519.verify(sig, msg, pk) // true
 */
export const ed25519 = Object.freeze({
  randomSecretKey,
  getPublicKey,
  sign,
  verify,
  verifyReference,
  preCheck: ed25519PreCheck,
})
