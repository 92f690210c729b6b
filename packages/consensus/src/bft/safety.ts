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
  /** Highest round this validator signed a timeout for (0: none). It commit-votes only above it. */
  lastTimeoutRound: bigint
  /** Highest round of a QC it commit-voted for (0: none). It signs no timeout at or below it. */
  commitVotedRound: bigint
  /**
   * The highest QC held when it last signed anything: after a restart its timeouts report at
   * least this QC (the 2-chain and commit-vote arguments rely on reported highQC rounds).
   */
  highQC?: QuorumCertificate
}

/** Safety data of a validator that never signed. */
export function initialSafetyData(): SafetyData {
  return { lastVotedRound: 0n, highestQCRound: 0n, lastTimeoutRound: 0n, commitVotedRound: 0n }
}

/** Reads and writes the safety data and the QC of the committed head. */
export class SafetyStore {
  constructor(private readonly db: ConsensusStore) {}

  async load(): Promise<SafetyData> {
    const v = await this.db.get(SAFETY_KEY)
    if (!v) return initialSafetyData()
    const l = asList(rlpDecode(v), 'safety data')
    // Records written before commit votes have the first two fields only. Such a node may have
    // timed out in any round up to lastVotedRound: assume it did, so it commit-votes only above.
    const qc = l.length > 4 ? asBytes(l[4], 'highQC') : new Uint8Array()
    const lastVotedRound = asBigint(l[0], 'lastVotedRound')
    return {
      lastVotedRound,
      highestQCRound: asBigint(l[1], 'highestQCRound'),
      lastTimeoutRound: l.length > 2 ? asBigint(l[2], 'lastTimeoutRound') : lastVotedRound,
      commitVotedRound: l.length > 3 ? asBigint(l[3], 'commitVotedRound') : 0n,
      ...(qc.length > 0 ? { highQC: decodeQC(qc) } : {}),
    }
  }

  async save(d: SafetyData): Promise<void> {
    await this.db.put(
      SAFETY_KEY,
      rlpEncode([
        bigintToBytes(d.lastVotedRound),
        bigintToBytes(d.highestQCRound),
        bigintToBytes(d.lastTimeoutRound),
        bigintToBytes(d.commitVotedRound),
        d.highQC ? encodeQC(d.highQC) : new Uint8Array(),
      ]),
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
