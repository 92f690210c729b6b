/**
 * RLP codecs for consensus messages, certificates and the BFT header data, and the exact bytes
 * each signature covers (domain-separated by a tag so a vote can never pass for a timeout).
 */
import { ConsensusError, ConsensusErrorCode } from './errors.js'
import {
  asBigint,
  asBytes,
  asList,
  bigintToBytes,
  type RLPItem,
  rlpDecode,
  rlpEncode,
} from './rlp.js'
import {
  type ConsensusMessage,
  ConsensusMessageType,
  type QuorumCertificate,
  type TimeoutCertificate,
} from './types.js'

const te = new TextEncoder()
const VOTE_TAG = te.encode('aureon/bft/vote/v1')
const COMMIT_TAG = te.encode('aureon/bft/commit/v1')
const TIMEOUT_TAG = te.encode('aureon/bft/timeout/v1')
const PROPOSAL_TAG = te.encode('aureon/bft/proposal/v1')
const VRF_TAG = te.encode('aureon/bft/leader/v1')

/** The data a BFT block carries in `header.consensus`. */
export interface BftHeaderData {
  epoch: bigint
  round: bigint
  /** QC of the parent block (genesis QC for the first block). */
  parentQC: QuorumCertificate
  /** The proposer's ECVRF proof over `vrfAlpha(seed, epoch, round)`. */
  vrfProof: Uint8Array
}

/** The QC that certifies genesis (round 0, no signers). */
export function genesisQC(genesisHash: Uint8Array): QuorumCertificate {
  return {
    epoch: 0n,
    round: 0n,
    height: 0n,
    blockHash: genesisHash,
    signers: new Uint8Array(0),
    signature: new Uint8Array(0),
  }
}

export function qcToRLP(qc: QuorumCertificate): RLPItem[] {
  return [
    rlpInt(qc.epoch),
    rlpInt(qc.round),
    rlpInt(qc.height),
    qc.blockHash,
    qc.signers,
    qc.signature,
  ]
}

function rlpInt(n: bigint | number): Uint8Array {
  return bigintToBytes(n)
}

export function qcFromRLP(item: RLPItem | undefined): QuorumCertificate {
  const l = asList(item, 'QC')
  if (l.length !== 6) throw invalid(`QC must have 6 fields, got ${l.length}`)
  return {
    epoch: asBigint(l[0], 'qc.epoch'),
    round: asBigint(l[1], 'qc.round'),
    height: asBigint(l[2], 'qc.height'),
    blockHash: asBytes(l[3], 'qc.blockHash'),
    signers: asBytes(l[4], 'qc.signers'),
    signature: asBytes(l[5], 'qc.signature'),
  }
}

export function tcToRLP(tc: TimeoutCertificate): RLPItem[] {
  return [
    rlpInt(tc.epoch),
    rlpInt(tc.round),
    tc.groups.map((g) => [rlpInt(g.highQCRound), g.signers, g.signature]),
  ]
}

export function tcFromRLP(item: RLPItem | undefined): TimeoutCertificate {
  const l = asList(item, 'TC')
  if (l.length !== 3) throw invalid(`TC must have 3 fields, got ${l.length}`)
  return {
    epoch: asBigint(l[0], 'tc.epoch'),
    round: asBigint(l[1], 'tc.round'),
    groups: asList(l[2], 'tc.groups').map((g) => {
      const gl = asList(g, 'tc.group')
      if (gl.length !== 3) throw invalid('TC group must have 3 fields')
      return {
        highQCRound: asBigint(gl[0], 'tc.highQCRound'),
        signers: asBytes(gl[1], 'tc.signers'),
        signature: asBytes(gl[2], 'tc.signature'),
      }
    }),
  }
}

function invalid(msg: string): ConsensusError {
  return new ConsensusError(ConsensusErrorCode.INVALID_MESSAGE, msg)
}

/** Encodes a QC alone. */
export function encodeQC(qc: QuorumCertificate): Uint8Array {
  return rlpEncode(qcToRLP(qc))
}

export function decodeQC(b: Uint8Array): QuorumCertificate {
  return qcFromRLP(rlpDecode(b))
}

/** Encodes a BFT header's consensus field: [epoch, round, parentQC, vrfProof]. */
export function encodeBftHeaderData(d: BftHeaderData): Uint8Array {
  return rlpEncode([rlpInt(d.epoch), rlpInt(d.round), qcToRLP(d.parentQC), d.vrfProof])
}

export function decodeBftHeaderData(b: Uint8Array): BftHeaderData {
  const l = asList(rlpDecode(b), 'BFT header data')
  if (l.length !== 4) throw invalid(`BFT header data must have 4 fields, got ${l.length}`)
  return {
    epoch: asBigint(l[0], 'epoch'),
    round: asBigint(l[1], 'round'),
    parentQC: qcFromRLP(l[2]),
    vrfProof: asBytes(l[3], 'vrfProof'),
  }
}

/**
 * Encodes a consensus message for the wire (RLP, first item the type byte).
 * @example
 * const bytes = encodeConsensusMessage({ type: ConsensusMessageType.Block, block: encoded })
 * const msg = decodeConsensusMessage(bytes)
 */
export function encodeConsensusMessage(m: ConsensusMessage): Uint8Array {
  switch (m.type) {
    case ConsensusMessageType.Proposal:
      return rlpEncode([
        m.type,
        rlpInt(m.epoch),
        rlpInt(m.round),
        m.block,
        m.vrfProof,
        m.tc ? tcToRLP(m.tc) : [],
        m.signature,
      ])
    case ConsensusMessageType.Vote:
    case ConsensusMessageType.CommitVote:
      return rlpEncode([
        m.type,
        rlpInt(m.epoch),
        rlpInt(m.round),
        rlpInt(m.height),
        m.blockHash,
        m.voter,
        m.signature,
      ])
    case ConsensusMessageType.Timeout:
      return rlpEncode([
        m.type,
        rlpInt(m.epoch),
        rlpInt(m.round),
        qcToRLP(m.highQC),
        m.voter,
        m.signature,
        m.lastTC ? tcToRLP(m.lastTC) : [],
      ])
    case ConsensusMessageType.Block:
      return rlpEncode([m.type, m.block])
    default:
      throw invalid(`unknown message type ${(m as { type: unknown }).type}`)
  }
}

function smallInt(item: RLPItem | undefined, what: string): number {
  const v = asBigint(item, what)
  if (v > 0xffffffffn) throw invalid(`${what} out of range: ${v}`)
  return Number(v)
}

/** Decodes wire bytes to a message; throws ConsensusError on anything malformed. */
export function decodeConsensusMessage(b: Uint8Array): ConsensusMessage {
  const l = asList(rlpDecode(b), 'message')
  const type = smallInt(l[0], 'message type')
  const need = (n: number) => {
    if (l.length !== n) throw invalid(`message type ${type} needs ${n} fields, got ${l.length}`)
  }
  switch (type) {
    case ConsensusMessageType.Proposal: {
      need(7)
      const tcItem = asList(l[5], 'tc')
      return {
        type,
        epoch: asBigint(l[1], 'epoch'),
        round: asBigint(l[2], 'round'),
        block: asBytes(l[3], 'block'),
        vrfProof: asBytes(l[4], 'vrfProof'),
        ...(tcItem.length ? { tc: tcFromRLP(tcItem) } : {}),
        signature: asBytes(l[6], 'signature'),
      }
    }
    case ConsensusMessageType.Vote:
    case ConsensusMessageType.CommitVote:
      need(7)
      return {
        type,
        epoch: asBigint(l[1], 'epoch'),
        round: asBigint(l[2], 'round'),
        height: asBigint(l[3], 'height'),
        blockHash: asBytes(l[4], 'blockHash'),
        voter: smallInt(l[5], 'voter'),
        signature: asBytes(l[6], 'signature'),
      }
    case ConsensusMessageType.Timeout: {
      need(7)
      const lastTC = asList(l[6], 'lastTC')
      return {
        type,
        epoch: asBigint(l[1], 'epoch'),
        round: asBigint(l[2], 'round'),
        highQC: qcFromRLP(l[3]),
        voter: smallInt(l[4], 'voter'),
        signature: asBytes(l[5], 'signature'),
        ...(lastTC.length ? { lastTC: tcFromRLP(lastTC) } : {}),
      }
    }
    case ConsensusMessageType.Block:
      need(2)
      return { type, block: asBytes(l[1], 'block') }
    default:
      throw invalid(`unknown message type ${type}`)
  }
}

/** Block sync request [fromHeight, count] and response [[block...]] codecs (for transports). */
export function encodeBlockSyncRequest(r: { fromHeight: bigint; count: number }): Uint8Array {
  return rlpEncode([rlpInt(r.fromHeight), r.count])
}

export function decodeBlockSyncRequest(b: Uint8Array): { fromHeight: bigint; count: number } {
  const l = asList(rlpDecode(b), 'block sync request')
  if (l.length !== 2) throw invalid('block sync request needs 2 fields')
  return { fromHeight: asBigint(l[0], 'fromHeight'), count: smallInt(l[1], 'count') }
}

export function encodeBlockSyncResponse(r: { blocks: Uint8Array[] }): Uint8Array {
  return rlpEncode([r.blocks])
}

export function decodeBlockSyncResponse(b: Uint8Array): { blocks: Uint8Array[] } {
  const l = asList(rlpDecode(b), 'block sync response')
  if (l.length !== 1) throw invalid('block sync response needs 1 field')
  return { blocks: asList(l[0], 'blocks').map((x) => asBytes(x, 'block')) }
}

/** Bytes a BLS vote signs: tag || RLP([epoch, round, height, blockHash]). */
export function voteSigningBytes(
  epoch: bigint,
  round: bigint,
  height: bigint,
  blockHash: Uint8Array,
): Uint8Array {
  return withTag(VOTE_TAG, rlpEncode([rlpInt(epoch), rlpInt(round), rlpInt(height), blockHash]))
}

/** Bytes a BLS commit vote signs: tag || RLP([epoch, round, height, blockHash]). */
export function commitVoteSigningBytes(
  epoch: bigint,
  round: bigint,
  height: bigint,
  blockHash: Uint8Array,
): Uint8Array {
  return withTag(COMMIT_TAG, rlpEncode([rlpInt(epoch), rlpInt(round), rlpInt(height), blockHash]))
}

/** Bytes a BLS timeout signs: tag || RLP([epoch, round, highQCRound]). */
export function timeoutSigningBytes(epoch: bigint, round: bigint, highQCRound: bigint): Uint8Array {
  return withTag(TIMEOUT_TAG, rlpEncode([rlpInt(epoch), rlpInt(round), rlpInt(highQCRound)]))
}

/** Bytes a proposer's ed25519 signature covers: tag || RLP([epoch, round, blockHash]). */
export function proposalSigningBytes(
  epoch: bigint,
  round: bigint,
  blockHash: Uint8Array,
): Uint8Array {
  return withTag(PROPOSAL_TAG, rlpEncode([rlpInt(epoch), rlpInt(round), blockHash]))
}

/** The ECVRF input of a round: tag || RLP([seed, epoch, round]). */
export function vrfAlpha(seed: Uint8Array, epoch: bigint, round: bigint): Uint8Array {
  return withTag(VRF_TAG, rlpEncode([seed, rlpInt(epoch), rlpInt(round)]))
}

function withTag(tag: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(tag.length + body.length)
  out.set(tag)
  out.set(body, tag.length)
  return out
}
