/**
 * BFT validator-set helpers: quorum by stake, signer bitmaps, and leader election.
 *
 * Leader of round r:
 * - entered by a QC of round r-1 on block P: the stake-weighted pick keyed by
 *   sha256(tag || VRF output of P || r) — P's VRF output is unique to P's proposer and unknown
 *   before P is revealed, so the next leader is unpredictable and cannot be ground;
 * - entered by a timeout certificate: round robin, validators[r mod n] (a crashed VRF leader
 *   cannot stall progress for more than n consecutive rounds).
 */
import { sha256 } from '@aureon/crypto'
import { bigintToBytes } from '../rlp.js'
import type { ConsensusValidator, ConsensusValidatorSet } from '../types.js'

const te = new TextEncoder()
const PICK_TAG = te.encode('aureon/bft/pick/v1')

/** Least stake that forms a quorum: floor(2 * total / 3) + 1. */
export function quorumStake(totalStake: bigint): bigint {
  return (totalStake * 2n) / 3n + 1n
}

/** Builds a signer bitmap for validator indices out of n. */
export function makeBitmap(indices: number[], n: number): Uint8Array {
  const b = new Uint8Array((n + 7) >> 3)
  for (const i of indices) b[i >> 3] |= 1 << (i & 7)
  return b
}

/** Indices set in a bitmap; undefined if it names a validator >= n or has the wrong length. */
export function bitmapIndices(b: Uint8Array, n: number): number[] | undefined {
  if (b.length !== (n + 7) >> 3) return undefined
  const out: number[] = []
  for (let i = 0; i < b.length * 8; i++) {
    if (b[i >> 3] & (1 << (i & 7))) {
      if (i >= n) return undefined
      out.push(i)
    }
  }
  return out
}

/**
 * Stake-weighted pick with exact integer arithmetic: x = uint256(sha256(tag||beta||round)) mod
 * totalStake, then the validator whose cumulative stake range (in address order) contains x.
 * @example
 * const idx = stakeWeightedPick(set, beta, 7n)
 */
export function stakeWeightedPick(
  set: ConsensusValidatorSet,
  beta: Uint8Array,
  round: bigint,
): number {
  const h = sha256(concat(PICK_TAG, beta, bigintToBytes(round)))
  let x = 0n
  for (const byte of h) x = (x << 8n) | BigInt(byte)
  x %= set.totalStake
  let acc = 0n
  for (let i = 0; i < set.validators.length; i++) {
    acc += set.validators[i].stake
    if (x < acc) return i
  }
  /* c8 ignore next */
  return set.validators.length - 1
}

/** Round-robin leader (fallback after a timeout). */
export function roundRobinLeader(set: ConsensusValidatorSet, round: bigint): number {
  return Number(round % BigInt(set.validators.length))
}

/** Sum of the stake of the given validators. */
export function stakeOf(validators: ConsensusValidator[], indices: Iterable<number>): bigint {
  let s = 0n
  for (const i of indices) s += validators[i].stake
  return s
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
