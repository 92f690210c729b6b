import { getImplementation } from '@chainsafe/bls/getImplementation'
import type { IBls, Implementation, PublicKey, Signature } from '@chainsafe/bls/types'
import type * as Blst from '@chainsafe/blst'
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { randomBytes } from './bytes.js'
import { CryptoError, CryptoErrorCode } from './errors.js'
import { BLS_PUBLIC_KEY_LENGTH, BLS_SECRET_KEY_LENGTH, BLS_SIGNATURE_LENGTH } from './params.js'

/** Domain separation tag of signatures (IETF BLS draft, proof-of-possession ciphersuite). */
export const BLS_SIGNATURE_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'
/** Domain separation tag of proofs of possession (PopProve / PopVerify). */
export const BLS_POP_DST = 'BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'

/** The BLS12-381 group order r: secret keys are integers in [1, r). */
export const BLS_CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n

/** One (public key, message, signature) triple of a batch. */
export interface BLSSignatureSet {
  publicKey: Uint8Array
  message: Uint8Array
  signature: Uint8Array
}

/** What this module uses of `@chainsafe/blst` directly. */
type BlstBinding = Pick<
  typeof Blst,
  'verify' | 'aggregatePublicKeys' | 'aggregateSignatures' | 'Signature'
>

declare const decodedBrand: unique symbol

/**
 * A BLS public key decoded and validated once (KeyValidate: not infinity, in G1), from
 * `bls.decodePublicKey`, or an aggregate of such keys from `bls.aggregateDecodedPublicKeys`.
 * Opaque: it holds the backend's decoded point and is only usable with the `BLS` object that
 * made it. `bytes` is the compressed encoding (48 bytes).
 */
export interface BLSDecodedPublicKey {
  readonly bytes: Uint8Array
  readonly [decodedBrand]: true
}

/** The BLS API of this package; `implementation` says which backend runs it. */
export interface BLS {
  /** 'blst-native' (native blst), or 'herumi' (WASM) when blst could not be loaded. */
  readonly implementation: Implementation
  randomSecretKey(): Uint8Array
  getPublicKey(secretKey: Uint8Array): Uint8Array
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
  /**
   * Sum of signatures. Each must decode to a curve point; by default each is also checked to be
   * in G2. `{ subgroupCheck: false }` skips that per-share check (blst): sound when the result
   * is then verified, since `verify`/`verifyDecoded` subgroup-check the aggregate itself.
   */
  aggregateSignatures(signatures: Uint8Array[], opts?: { subgroupCheck?: boolean }): Uint8Array
  aggregatePublicKeys(publicKeys: Uint8Array[]): Uint8Array
  fastAggregateVerify(signature: Uint8Array, message: Uint8Array, publicKeys: Uint8Array[]): boolean
  aggregateVerify(signature: Uint8Array, messages: Uint8Array[], publicKeys: Uint8Array[]): boolean
  verifyMultipleSignatures(sets: BLSSignatureSet[]): boolean
  popProve(secretKey: Uint8Array): Uint8Array
  popVerify(publicKey: Uint8Array, proof: Uint8Array): boolean
  /**
   * Decodes and validates a public key once (throws INVALID_PUBLIC_KEY like `verify` would
   * refuse it); the handle skips decompression and the G1 subgroup check on every later use.
   */
  decodePublicKey(publicKey: Uint8Array): BLSDecodedPublicKey
  /**
   * Sum of decoded keys (no re-validation; about 3 us a key with blst). Throws
   * INVALID_PUBLIC_KEY for an empty list, a handle of another `BLS` object, or a sum at infinity.
   */
  aggregateDecodedPublicKeys(publicKeys: BLSDecodedPublicKey[]): BLSDecodedPublicKey
  /**
   * `verify` against a decoded key: the signature is decoded and subgroup-checked once, then one
   * pairing check. With an aggregated key this is FastAggregateVerify (keys need proofs of
   * possession). False (never throws) for any bad input.
   */
  verifyDecoded(signature: Uint8Array, message: Uint8Array, publicKey: BLSDecodedPublicKey): boolean
}

/** True for the compressed encoding of the point at infinity (0xc0 then zeros), G1 or G2. */
function isInfinity(p: Uint8Array): boolean {
  if (p[0] !== 0xc0) return false
  for (let i = 1; i < p.length; i++) if (p[i] !== 0) return false
  return true
}

function secretKeyScalar(sk: unknown): bigint {
  if (!(sk instanceof Uint8Array) || sk.length !== BLS_SECRET_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.INVALID_SECRET_KEY,
      `BLS secret key must be ${BLS_SECRET_KEY_LENGTH} bytes (Uint8Array), got ${sk instanceof Uint8Array ? `${sk.length} bytes` : typeof sk}`,
    )
  }
  let n = 0n
  for (const b of sk) n = (n << 8n) | BigInt(b)
  if (n === 0n || n >= BLS_CURVE_ORDER) {
    throw new CryptoError(
      CryptoErrorCode.INVALID_SECRET_KEY,
      'BLS secret key must be a big-endian integer in [1, r) (r = the BLS12-381 group order)',
    )
  }
  return n
}

const noble = bls12_381.longSignatures

/**
 * Builds the BLS API over one @chainsafe/bls backend (`bls` below is built over the one that
 * loaded). Ethereum consensus semantics: public keys must pass KeyValidate (not infinity, in G1),
 * signatures must decode and be in G2, empty aggregates are errors and empty verifications false.
 *
 * @example
 * const herumiBLS = createBLS(await getImplementation('herumi'))
 */
export function createBLS(impl: IBls, native?: BlstBinding): BLS {
  // blst's binding, used directly (no per-call re-validation) when `impl` is blst-native.
  const blst = impl.implementation === 'blst-native' ? native : undefined
  const decoded = new WeakMap<BLSDecodedPublicKey, PublicKey>()
  function handle(pk: PublicKey, bytes: Uint8Array): BLSDecodedPublicKey {
    const h = Object.freeze({ bytes }) as BLSDecodedPublicKey
    decoded.set(h, pk)
    return h
  }
  function decodedKey(h: unknown): PublicKey {
    const pk =
      typeof h === 'object' && h !== null ? decoded.get(h as BLSDecodedPublicKey) : undefined
    if (!pk) {
      throw new CryptoError(
        CryptoErrorCode.INVALID_PUBLIC_KEY,
        'not a decoded BLS public key of this BLS object (use bls.decodePublicKey)',
      )
    }
    return pk
  }
  /**
   * One pairing check with a validated key. blst: the signature is decompressed without checks
   * and subgroup-checked once inside verify (the @chainsafe/bls path decodes with a subgroup
   * check and then validates again). The infinity signature never verifies against a key that
   * is not infinity, so it is refused up front on both backends.
   */
  function verifyWithKey(sig: unknown, msg: unknown, pk: PublicKey): boolean {
    if (blst) {
      if (!(sig instanceof Uint8Array) || sig.length !== BLS_SIGNATURE_LENGTH || isInfinity(sig)) {
        return false
      }
      const s = blst.Signature.fromBytes(sig, false)
      return blst.verify(
        message(msg),
        (pk as unknown as { value: Blst.PublicKey }).value,
        s,
        false,
        true,
      )
    }
    return signature(sig).verify(pk, message(msg))
  }
  function publicKey(pk: unknown): PublicKey {
    if (!(pk instanceof Uint8Array) || pk.length !== BLS_PUBLIC_KEY_LENGTH) {
      throw new CryptoError(
        CryptoErrorCode.INVALID_PUBLIC_KEY,
        `BLS public key must be ${BLS_PUBLIC_KEY_LENGTH} bytes`,
      )
    }
    if (isInfinity(pk)) {
      throw new CryptoError(
        CryptoErrorCode.INVALID_PUBLIC_KEY,
        'BLS public key is the point at infinity',
      )
    }
    try {
      return impl.PublicKey.fromBytes(pk, undefined, true)
    } catch (cause) {
      throw new CryptoError(
        CryptoErrorCode.INVALID_PUBLIC_KEY,
        'BLS public key does not decode to a point of G1',
        { cause },
      )
    }
  }
  function signature(sig: unknown): Signature {
    if (!(sig instanceof Uint8Array) || sig.length !== BLS_SIGNATURE_LENGTH) {
      throw new CryptoError(
        CryptoErrorCode.INVALID_SIGNATURE,
        `BLS signature must be ${BLS_SIGNATURE_LENGTH} bytes`,
      )
    }
    try {
      // The infinity signature is a valid G2 point (it may appear in aggregates); blst's
      // validating decoder refuses it, so it is decoded without the (trivial) group check.
      return impl.Signature.fromBytes(sig, undefined, !isInfinity(sig))
    } catch (cause) {
      throw new CryptoError(
        CryptoErrorCode.INVALID_SIGNATURE,
        'BLS signature does not decode to a point of G2',
        { cause },
      )
    }
  }
  function message(m: unknown): Uint8Array {
    if (!(m instanceof Uint8Array)) {
      throw new CryptoError(CryptoErrorCode.INVALID_LENGTH, 'message must be a Uint8Array')
    }
    return m
  }
  const safe =
    <A extends unknown[]>(f: (...a: A) => boolean) =>
    (...a: A): boolean => {
      try {
        return f(...a) === true
      } catch {
        return false
      }
    }

  return Object.freeze({
    implementation: impl.implementation,
    randomSecretKey(): Uint8Array {
      for (;;) {
        const sk = impl.SecretKey.fromKeygen(randomBytes(32)).toBytes()
        try {
          secretKeyScalar(sk)
          return sk
        } catch {
          /* v8 ignore next: keygen yields a valid scalar with overwhelming probability */
        }
      }
    },
    getPublicKey(secretKey: Uint8Array): Uint8Array {
      secretKeyScalar(secretKey)
      return impl.secretKeyToPublicKey(secretKey)
    },
    sign(msg: Uint8Array, secretKey: Uint8Array): Uint8Array {
      secretKeyScalar(secretKey)
      return impl.sign(secretKey, message(msg))
    },
    verify: safe((sig: Uint8Array, msg: Uint8Array, pk: Uint8Array) =>
      verifyWithKey(sig, msg, publicKey(pk)),
    ),
    aggregateSignatures(signatures: Uint8Array[], opts?: { subgroupCheck?: boolean }): Uint8Array {
      if (!Array.isArray(signatures) || signatures.length === 0) {
        throw new CryptoError(
          CryptoErrorCode.INVALID_SIGNATURE,
          'aggregateSignatures needs at least one signature',
        )
      }
      if (blst && opts?.subgroupCheck === false) {
        const points = signatures.map((sig) => {
          if (!(sig instanceof Uint8Array) || sig.length !== BLS_SIGNATURE_LENGTH) signature(sig)
          try {
            return blst.Signature.fromBytes(sig, false)
          } catch (cause) {
            throw new CryptoError(
              CryptoErrorCode.INVALID_SIGNATURE,
              'BLS signature does not decode to a curve point',
              { cause },
            )
          }
        })
        return blst.aggregateSignatures(points, false).toBytes(true)
      }
      return impl.Signature.aggregate(signatures.map(signature)).toBytes()
    },
    aggregatePublicKeys(publicKeys: Uint8Array[]): Uint8Array {
      if (!Array.isArray(publicKeys) || publicKeys.length === 0) {
        throw new CryptoError(
          CryptoErrorCode.INVALID_PUBLIC_KEY,
          'aggregatePublicKeys needs at least one public key',
        )
      }
      return impl.PublicKey.aggregate(publicKeys.map(publicKey)).toBytes()
    },
    fastAggregateVerify: safe((sig: Uint8Array, msg: Uint8Array, pks: Uint8Array[]) => {
      if (pks.length === 0) return false
      return signature(sig).verifyAggregate(pks.map(publicKey), message(msg))
    }),
    aggregateVerify: safe((sig: Uint8Array, msgs: Uint8Array[], pks: Uint8Array[]) => {
      if (pks.length === 0 || pks.length !== msgs.length) return false
      const keys = pks.map(publicKey)
      const s = signature(sig)
      if (impl.implementation === 'herumi' && msgs.some((m) => message(m).length !== 32)) {
        // herumi's aggregateVerify only takes 32-byte messages: use noble's pairing instead.
        return noble.verifyBatch(
          sig,
          msgs.map((m, i) => ({ message: noble.hash(m, BLS_SIGNATURE_DST), publicKey: pks[i] })),
        )
      }
      return s.verifyMultiple(keys, msgs.map(message))
    }),
    verifyMultipleSignatures: safe((sets: BLSSignatureSet[]) => {
      if (sets.length === 0) return false
      if (impl.implementation === 'herumi') {
        // herumi's multiVerify only takes 32-byte messages: check one by one instead.
        return sets.every((s) =>
          signature(s.signature).verify(publicKey(s.publicKey), message(s.message)),
        )
      }
      return impl.Signature.verifyMultipleSignatures(
        sets.map((s) => ({
          publicKey: publicKey(s.publicKey),
          message: message(s.message),
          signature: signature(s.signature),
        })),
      )
    }),
    popProve(secretKey: Uint8Array): Uint8Array {
      secretKeyScalar(secretKey)
      const pk = impl.secretKeyToPublicKey(secretKey)
      return noble.Signature.toBytes(noble.sign(noble.hash(pk, BLS_POP_DST), secretKey))
    },
    popVerify: safe((pk: Uint8Array, proof: Uint8Array) => {
      publicKey(pk)
      signature(proof)
      return noble.verify(noble.Signature.fromBytes(proof), noble.hash(pk, BLS_POP_DST), pk)
    }),
    decodePublicKey(pk: Uint8Array): BLSDecodedPublicKey {
      return handle(publicKey(pk), Uint8Array.from(pk))
    },
    aggregateDecodedPublicKeys(pks: BLSDecodedPublicKey[]): BLSDecodedPublicKey {
      if (!Array.isArray(pks) || pks.length === 0) {
        throw new CryptoError(
          CryptoErrorCode.INVALID_PUBLIC_KEY,
          'aggregateDecodedPublicKeys needs at least one key',
        )
      }
      const keys = pks.map(decodedKey)
      if (keys.length === 1) return pks[0]
      let agg: PublicKey
      try {
        agg = blst
          ? (
              impl.PublicKey as unknown as { friendBuild(k: Blst.PublicKey): PublicKey }
            ).friendBuild(
              blst.aggregatePublicKeys(
                keys.map((k) => (k as unknown as { value: Blst.PublicKey }).value),
                false,
              ),
            )
          : impl.PublicKey.aggregate(keys)
      } catch (cause) {
        // herumi refuses to build the point at infinity
        throw new CryptoError(CryptoErrorCode.INVALID_PUBLIC_KEY, 'the aggregate key is infinity', {
          cause,
        })
      }
      const bytes = agg.toBytes()
      if (isInfinity(bytes)) {
        throw new CryptoError(CryptoErrorCode.INVALID_PUBLIC_KEY, 'the aggregate key is infinity')
      }
      return handle(agg, bytes)
    },
    verifyDecoded: safe((sig: Uint8Array, msg: Uint8Array, pk: BLSDecodedPublicKey) =>
      verifyWithKey(sig, msg, decodedKey(pk)),
    ),
  })
}

async function loadImplementation(): Promise<{
  impl: IBls
  native?: BlstBinding
  fallbackReason?: string
}> {
  const wanted = process.env.AUREON_BLS_IMPL === 'herumi' ? 'herumi' : 'blst-native'
  try {
    const impl = await getImplementation(wanted)
    if (wanted === 'herumi') return { impl }
    return { impl, native: (await import('@chainsafe/blst')).default }
  } catch (e) {
    /* v8 ignore next 2: only where the blst native binary cannot load */
    return { impl: await getImplementation('herumi'), fallbackReason: String(e) }
  }
}

const loaded = await loadImplementation()

/**
 * Why the native blst backend could not be loaded (then `bls.implementation` is 'herumi'), or
 * undefined. Set `AUREON_BLS_IMPL=herumi` to choose the WASM backend on purpose.
 */
export const blsFallbackReason: string | undefined = loaded.fallbackReason

/**
 * BLS12-381 as Ethereum uses it: public keys in G1 (48 bytes), signatures in G2 (96 bytes),
 * proof-of-possession ciphersuite. Native blst where it loads, herumi WASM otherwise.
 *
 * @example
 * const sk = bls.randomSecretKey()
 * const sig = bls.sign(msg, sk)
 * bls.verify(sig, msg, bls.getPublicKey(sk)) // true
 */
export const bls: BLS = createBLS(loaded.impl, loaded.native)
