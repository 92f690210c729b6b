/**
 * Signature checks with memoisation. Verification is a pure function of its inputs, so a result
 * can be reused: every node of a simulation (or a node that sees a message twice) pays for one
 * BLS pairing or ECVRF check per distinct input. BLS public keys are decoded and validated once
 * (`bls.decodePublicKey`), kept per validator set (one set object per epoch), and the aggregate
 * key of a signer set is cached per validator set, so a QC check is one signature decode and one
 * pairing check.
 */
import { type BLSDecodedPublicKey, bls, ecvrf, ed25519, sha256 } from '@aureon/crypto'
import type { ConsensusValidatorSet } from '../types.js'

const MAX_ENTRIES = 200_000

class BoundedCache<V> {
  private map = new Map<string, V>()
  get(k: string): V | undefined {
    return this.map.get(k)
  }
  set(k: string, v: V): void {
    if (this.map.size >= MAX_ENTRIES) this.map.clear()
    this.map.set(k, v)
  }
}

const results = new BoundedCache<boolean>()
const vrfResults = new BoundedCache<Uint8Array | null>()

function key(tag: string, ...parts: Uint8Array[]): string {
  let n = 0
  for (const p of parts) n += p.length + 4
  const buf = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    new DataView(buf.buffer).setUint32(o, p.length)
    buf.set(p, o + 4)
    o += p.length + 4
  }
  return tag + Buffer.from(sha256(buf)).toString('hex')
}

const decoded = new BoundedCache<BLSDecodedPublicKey | null>()

/** A BLS public key decoded and validated once per process (null if it is not a valid key). */
function decodedKey(pk: Uint8Array): BLSDecodedPublicKey | null {
  const k = Buffer.from(pk).toString('hex')
  let d = decoded.get(k)
  if (d === undefined) {
    try {
      d = bls.decodePublicKey(pk)
    } catch {
      d = null
    }
    decoded.set(k, d)
  }
  return d
}

interface SetKeys {
  keys: (BLSDecodedPublicKey | null | undefined)[]
  aggregates: Map<string, BLSDecodedPublicKey | null>
}
const MAX_AGGREGATES_PER_SET = 4096
const setKeys = new WeakMap<ConsensusValidatorSet, SetKeys>()

/**
 * The aggregate BLS key of the validators `idx` (ascending, distinct) of `set`, or null if one
 * of them has no valid key. Keys are decoded once per set (lazily, by index) and aggregates are
 * cached per set by signer list: a QC's signer set repeats from round to round, so this is
 * usually two map lookups.
 */
export function signersKey(set: ConsensusValidatorSet, idx: number[]): BLSDecodedPublicKey | null {
  let sk = setKeys.get(set)
  if (!sk) {
    sk = { keys: [], aggregates: new Map() }
    setKeys.set(set, sk)
  }
  const k = idx.join(',')
  let agg = sk.aggregates.get(k)
  if (agg !== undefined) return agg
  const keys: BLSDecodedPublicKey[] = []
  agg = null
  for (const i of idx) {
    let d = sk.keys[i]
    if (d === undefined) {
      const v = set.validators[i]
      d = v ? decodedKey(v.blsPublicKey) : null
      sk.keys[i] = d
    }
    if (!d) break
    keys.push(d)
  }
  if (keys.length === idx.length && keys.length > 0) {
    try {
      agg = bls.aggregateDecodedPublicKeys(keys)
    } catch {
      agg = null
    }
  }
  if (sk.aggregates.size >= MAX_AGGREGATES_PER_SET) sk.aggregates.clear()
  sk.aggregates.set(k, agg)
  return agg
}

/** bls.verifyDecoded, memoised by (signature, message, key bytes). */
export function cachedBlsVerify(
  sig: Uint8Array,
  msg: Uint8Array,
  pk: BLSDecodedPublicKey,
): boolean {
  const k = key('b', sig, msg, pk.bytes)
  let r = results.get(k)
  if (r === undefined) {
    r = bls.verifyDecoded(sig, msg, pk)
    results.set(k, r)
  }
  return r
}

/**
 * FastAggregateVerify of `sig` over `msg` by the validators `idx` of `set` (cached keys and
 * aggregate), memoised.
 */
export function cachedSignersVerify(
  sig: Uint8Array,
  msg: Uint8Array,
  set: ConsensusValidatorSet,
  idx: number[],
): boolean {
  if (idx.length === 0) return false
  const agg = signersKey(set, idx)
  return agg ? cachedBlsVerify(sig, msg, agg) : false
}

/** ed25519.verify, memoised. */
export function cachedEd25519Verify(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  const k = key('e', sig, msg, pk)
  let r = results.get(k)
  if (r === undefined) {
    r = ed25519.verify(sig, msg, pk)
    results.set(k, r)
  }
  return r
}

/** ecvrf.verify, memoised: the VRF output (beta) or null if the proof is bad. */
export function cachedVrfVerify(
  pk: Uint8Array,
  proof: Uint8Array,
  alpha: Uint8Array,
): Uint8Array | null {
  const k = key('v', pk, proof, alpha)
  let r: Uint8Array | null | undefined = vrfResults.get(k)
  if (r === undefined) {
    try {
      const v = ecvrf.verify(pk, proof, alpha)
      r = v.valid ? v.beta : null
    } catch {
      r = null
    }
    vrfResults.set(k, r)
  }
  return r
}

/** ecvrf.proofToHash, memoised by proof. */
export function cachedVrfHash(proof: Uint8Array): Uint8Array {
  const k = key('h', proof)
  let r: Uint8Array | null | undefined = vrfResults.get(k)
  if (!r) {
    r = ecvrf.proofToHash(proof)
    vrfResults.set(k, r)
  }
  return r
}

const proofs = new BoundedCache<Uint8Array>()

/**
 * ecvrf.prove, memoised (ECVRF proofs are deterministic; simulations re-prove the same rounds
 * with the same keys across seeds).
 */
export function cachedVrfProve(secretKey: Uint8Array, alpha: Uint8Array): Uint8Array {
  const k = key('p', secretKey, alpha)
  let r = proofs.get(k)
  if (!r) {
    r = ecvrf.prove(secretKey, alpha)
    proofs.set(k, r)
  }
  return r
}
