/**
 * Signature checks with memoisation. Verification is a pure function of its inputs, so a result
 * can be reused: every node of a simulation (or a node that sees a message twice) pays for one
 * BLS pairing or ECVRF check per distinct input. BLS public keys are aggregated from a cache.
 */
import { bls, ecvrf, ed25519, sha256 } from '@aureon/crypto'

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
const aggKeys = new BoundedCache<Uint8Array>()

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

/** bls.verify, memoised. */
export function cachedBlsVerify(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  const k = key('b', sig, msg, pk)
  let r = results.get(k)
  if (r === undefined) {
    try {
      r = bls.verify(sig, msg, pk)
    } catch {
      r = false
    }
    results.set(k, r)
  }
  return r
}

/**
 * Aggregate of a set of BLS public keys, cached by the set (a QC's signer set repeats from
 * round to round, so this is usually a map lookup).
 */
export function cachedAggregateKey(pks: Uint8Array[]): Uint8Array {
  const k = key('k', ...pks)
  let agg = aggKeys.get(k)
  if (!agg) {
    agg = bls.aggregatePublicKeys(pks)
    aggKeys.set(k, agg)
  }
  return agg
}

/** fastAggregateVerify via the cached aggregate key, memoised. */
export function cachedFastAggregateVerify(
  sig: Uint8Array,
  msg: Uint8Array,
  pks: Uint8Array[],
): boolean {
  if (pks.length === 0) return false
  const agg = cachedAggregateKey(pks)
  return cachedBlsVerify(sig, msg, agg)
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
