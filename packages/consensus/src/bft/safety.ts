/**
 * Persisted safety rules of a BFT validator. Written to the KVStore (and awaited) BEFORE any
 * vote or timeout leaves the node, so a validator that crashes and restarts never signs twice
 * for one round.
 */
import type { KVStore } from '@aureon/storage'

/** What safety rules need from a store (a KVStore fits). */
export type ConsensusStore = Pick<KVStore, 'get' | 'put'>

import { decodeQC, encodeQC } from '../messages.js'
import { asBigint, asBytes, asList, bigintToBytes, rlpDecode, rlpEncode } from '../rlp.js'
import type { QuorumCertificate } from '../types.js'

const SAFETY_KEY = new TextEncoder().encode('bft/safety')
const HEAD_QC_KEY = new TextEncoder().encode('bft/head-qc')

export interface SafetyData {
  /** Highest round this validator voted in or timed out in: it signs nothing at or below it. */
  lastVotedRound: bigint
  /** Highest QC round seen when last voting (the 2-chain lock). */
  highestQCRound: bigint
}

/** Reads and writes the safety data and the QC of the committed head. */
export class SafetyStore {
  constructor(private readonly db: ConsensusStore) {}

  async load(): Promise<SafetyData> {
    const v = await this.db.get(SAFETY_KEY)
    if (!v) return { lastVotedRound: 0n, highestQCRound: 0n }
    const l = asList(rlpDecode(v), 'safety data')
    return {
      lastVotedRound: asBigint(l[0], 'lastVotedRound'),
      highestQCRound: asBigint(l[1], 'highestQCRound'),
    }
  }

  async save(d: SafetyData): Promise<void> {
    await this.db.put(
      SAFETY_KEY,
      rlpEncode([bigintToBytes(d.lastVotedRound), bigintToBytes(d.highestQCRound)]),
    )
  }

  async loadHeadQC(): Promise<QuorumCertificate | undefined> {
    const v = await this.db.get(HEAD_QC_KEY)
    return v ? decodeQC(asBytes(v, 'head qc')) : undefined
  }

  async saveHeadQC(qc: QuorumCertificate): Promise<void> {
    await this.db.put(HEAD_QC_KEY, encodeQC(qc))
  }

  async saveEvidence(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.db.put(key, value)
  }
}
