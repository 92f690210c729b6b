import { ed25519 as nobleEd25519 } from '@noble/curves/ed25519.js'
import { concatBytes } from './bytes.js'
import { CryptoError, CryptoErrorCode } from './errors.js'
import { sha512 } from './hashes.js'
import { ECVRF_PROOF_LENGTH, ED25519_L, ED25519_SECRET_KEY_LENGTH } from './params.js'

type Point = InstanceType<typeof nobleEd25519.Point>
const Point = nobleEd25519.Point

/** RFC 9381 suite_string of ECVRF-EDWARDS25519-SHA512-TAI. */
export const ECVRF_SUITE = 0x03
const SUITE = new Uint8Array([ECVRF_SUITE])
const ZERO = new Uint8Array([0x00])
const ONE = new Uint8Array([0x01])
const TWO = new Uint8Array([0x02])
const THREE = new Uint8Array([0x03])
const C_LEN = 16

/** Result of `ecvrf.verify`: the output beta, or why the proof was refused. */
export type ECVRFVerifyResult = { valid: true; beta: Uint8Array } | { valid: false; reason: string }

function bytesToNumberLE(b: Uint8Array): bigint {
  let n = 0n
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i])
  return n
}

function numberToBytesLE(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len)
  for (let i = 0; i < len; i++) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}

const mod = (a: bigint) => ((a % ED25519_L) + ED25519_L) % ED25519_L

/** RFC 8032 point decoding (y < p, no x = 0 with the sign bit); undefined when it fails. */
function stringToPoint(b: Uint8Array): Point | undefined {
  try {
    return Point.fromBytes(b, false)
  } catch {
    return undefined
  }
}

/** ECVRF_encode_to_curve_try_and_increment (RFC 9381 5.4.1.1), salt = the public key. */
function encodeToCurve(pk: Uint8Array, alpha: Uint8Array): Point {
  const ctr = new Uint8Array(1)
  for (let i = 0; i < 256; i++) {
    ctr[0] = i
    const hash = sha512(concatBytes(SUITE, ONE, pk, alpha, ctr, ZERO))
    const H = stringToPoint(hash.subarray(0, 32))
    if (H !== undefined) return H.clearCofactor()
  }
  /* v8 ignore next 2: probability 2^-256 */
  throw new CryptoError(
    CryptoErrorCode.INVALID_PROOF,
    'encode_to_curve found no point in 256 tries',
  )
}

/** ECVRF_challenge_generation (RFC 9381 5.4.3): the first 16 bytes of the hash, little-endian. */
function challenge(points: Point[]): bigint {
  const parts = [SUITE, TWO, ...points.map((p) => p.toBytes()), ZERO]
  return bytesToNumberLE(sha512(concatBytes(...parts)).subarray(0, C_LEN))
}

function expandSecretKey(sk: unknown): { x: bigint; prefix: Uint8Array; Y: Point; pk: Uint8Array } {
  if (!(sk instanceof Uint8Array) || sk.length !== ED25519_SECRET_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.INVALID_SECRET_KEY,
      `VRF secret key must be the ${ED25519_SECRET_KEY_LENGTH}-byte ed25519 seed, got ${sk instanceof Uint8Array ? `${sk.length} bytes` : typeof sk}`,
    )
  }
  const h = sha512(sk)
  const a = h.slice(0, 32)
  a[0] &= 248
  a[31] &= 127
  a[31] |= 64
  const x = mod(bytesToNumberLE(a))
  const Y = Point.BASE.multiply(x)
  return { x, prefix: h.subarray(32), Y, pk: Y.toBytes() }
}

/**
 * An 80-byte ECVRF-EDWARDS25519-SHA512-TAI proof (RFC 9381) of `alpha` under the ed25519 seed
 * `secretKey` (the account key doubles as the VRF key). Deterministic.
 *
 * @example
 * const pi = ecvrf.prove(sk, utf8ToBytes('round 12'))
 */
function prove(secretKey: Uint8Array, alpha: Uint8Array): Uint8Array {
  if (!(alpha instanceof Uint8Array)) {
    throw new CryptoError(CryptoErrorCode.INVALID_LENGTH, 'VRF input alpha must be a Uint8Array')
  }
  const { x, prefix, Y, pk } = expandSecretKey(secretKey)
  const H = encodeToCurve(pk, alpha)
  const Gamma = H.multiply(x)
  // RFC 9381 5.4.2.2 nonce: SHA-512(SHA-512(sk)[32..64] || point_to_string(H)) mod q
  const k = mod(bytesToNumberLE(sha512(concatBytes(prefix, H.toBytes()))))
  const c = challenge([Y, H, Gamma, Point.BASE.multiply(k), H.multiply(k)])
  const s = mod(k + c * x)
  return concatBytes(Gamma.toBytes(), numberToBytesLE(c, C_LEN), numberToBytesLE(s, 32))
}

type Decoded = { Gamma: Point; c: bigint; s: bigint } | { reason: string }

function decodeProof(proof: unknown): Decoded {
  if (!(proof instanceof Uint8Array) || proof.length !== ECVRF_PROOF_LENGTH) {
    return { reason: `proof must be ${ECVRF_PROOF_LENGTH} bytes` }
  }
  const Gamma = stringToPoint(proof.subarray(0, 32))
  if (Gamma === undefined) return { reason: 'Gamma is not a canonical curve point' }
  if (Gamma.isSmallOrder()) return { reason: 'Gamma is of small order' }
  const c = bytesToNumberLE(proof.subarray(32, 48))
  const s = bytesToNumberLE(proof.subarray(48, 80))
  if (s >= ED25519_L) return { reason: 'scalar s is not canonical (s >= L)' }
  return { Gamma, c, s }
}

function hashGamma(Gamma: Point): Uint8Array {
  return sha512(concatBytes(SUITE, THREE, Gamma.clearCofactor().toBytes(), ZERO))
}

/**
 * The 64-byte VRF output beta of a proof (RFC 9381 ECVRF_proof_to_hash). Does not verify the
 * proof: use the beta that `verify` returns for anything that matters. Throws CryptoError
 * `ERR_INVALID_PROOF` when the proof does not even decode.
 *
 * @example
 * const beta = ecvrf.proofToHash(pi)
 */
function proofToHash(proof: Uint8Array): Uint8Array {
  const d = decodeProof(proof)
  if ('reason' in d)
    throw new CryptoError(CryptoErrorCode.INVALID_PROOF, `invalid VRF proof: ${d.reason}`)
  return hashGamma(d.Gamma)
}

/**
 * Verifies a proof (RFC 9381 ECVRF_verify with validate_key): returns beta, or a reason. Never
 * throws on bad input: wrong lengths, non-canonical scalars, invalid or small-order points are
 * reported as `{ valid: false, reason }`.
 *
 * @example
 * const r = ecvrf.verify(pk, pi, utf8ToBytes('round 12'))
 * if (r.valid) use(r.beta)
 */
function verify(publicKey: Uint8Array, proof: Uint8Array, alpha: Uint8Array): ECVRFVerifyResult {
  try {
    if (!(alpha instanceof Uint8Array))
      return { valid: false, reason: 'alpha must be a Uint8Array' }
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
      return { valid: false, reason: 'public key must be 32 bytes' }
    }
    const Y = stringToPoint(publicKey)
    if (Y === undefined)
      return { valid: false, reason: 'public key is not a canonical curve point' }
    if (Y.isSmallOrder()) return { valid: false, reason: 'public key is of small order' }
    const d = decodeProof(proof)
    if ('reason' in d) return { valid: false, reason: d.reason }
    const H = encodeToCurve(publicKey, alpha)
    const sB = d.s === 0n ? Point.ZERO : Point.BASE.multiplyUnsafe(d.s)
    const cY = d.c === 0n ? Point.ZERO : Y.multiplyUnsafe(d.c)
    const sH = d.s === 0n ? Point.ZERO : H.multiplyUnsafe(d.s)
    const cG = d.c === 0n ? Point.ZERO : d.Gamma.multiplyUnsafe(d.c)
    const U = sB.subtract(cY)
    const V = sH.subtract(cG)
    if (challenge([Y, H, d.Gamma, U, V]) !== d.c) {
      return { valid: false, reason: 'challenge mismatch: proof does not match key and input' }
    }
    return { valid: true, beta: hashGamma(d.Gamma) }
    /* v8 ignore next 3: defensive, no known input reaches it */
  } catch (e) {
    return { valid: false, reason: `malformed input: ${(e as Error).message}` }
  }
}

/**
 * ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381, suite 0x03) on @noble/curves point math. The
 * ed25519 secret key (32-byte seed) is the VRF secret key; the ed25519 public key is the VRF key.
 *
 * @example
 * const pi = ecvrf.prove(sk, alpha)
 * const r = ecvrf.verify(ed25519.getPublicKey(sk), pi, alpha) // { valid: true, beta }
 */
export const ecvrf = Object.freeze({ prove, verify, proofToHash })

/** Internals exposed for tests against the RFC's intermediate values. */
export const _ecvrfInternals = Object.freeze({ encodeToCurve, expandSecretKey, challenge })
