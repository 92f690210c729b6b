/**
 * Quorum certificate checks: signer bitmap, stake >= quorum, one FastAggregateVerify against
 * the aggregate of the signers' BLS keys. The keys are decoded and validated once per validator
 * set (the engine keeps one set object per epoch) and the aggregate is cached per signer set, so
 * a check costs one signature decode and one pairing check.
 */
import { bls } from '@aureon/crypto'
import { voteSigningBytes } from '../messages.js'
import type { ConsensusValidatorSet, QuorumCertificate } from '../types.js'
import { bitmapIndices, quorumStake, stakeOf } from './leader.js'
import { cachedBlsVerify, signersKey } from './verify-cache.js'

/**
 * True if `qc` carries a quorum (by stake) of `set` and its aggregate signature verifies.
 * `memoise` reuses an earlier result for the same signature, message and signer set.
 * @example
 * if (!verifyQuorumCertificate(qc, set)) throw new Error('bad QC')
 */
export function verifyQuorumCertificate(
  qc: QuorumCertificate,
  set: ConsensusValidatorSet,
  opts: { memoise?: boolean } = {},
): boolean {
  const idx = bitmapIndices(qc.signers, set.validators.length)
  if (!idx || idx.length === 0) return false
  if (stakeOf(set.validators, idx) < quorumStake(set.totalStake)) return false
  const agg = signersKey(set, idx)
  if (!agg) return false
  const msg = voteSigningBytes(qc.epoch, qc.round, qc.height, qc.blockHash)
  return opts.memoise
    ? cachedBlsVerify(qc.signature, msg, agg)
    : bls.verifyDecoded(qc.signature, msg, agg)
}
