import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  bigintToBytes,
  bytesToBigint,
  type ConsensusMessage,
  ConsensusMessageType,
  commitVoteSigningBytes,
  decodeBftHeaderData,
  decodeBlockSyncRequest,
  decodeBlockSyncResponse,
  decodeConsensusMessage,
  decodeQC,
  encodeBftHeaderData,
  encodeBlockSyncRequest,
  encodeBlockSyncResponse,
  encodeConsensusMessage,
  encodeQC,
  genesisQC,
  isConsensusError,
  type QuorumCertificate,
  rlpDecode,
  rlpEncode,
  voteSigningBytes,
} from '../src/index.js'

const bytes = (max = 40) => fc.uint8Array({ maxLength: max })
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
const qcArb: fc.Arbitrary<QuorumCertificate> = fc.record({
  epoch: u64,
  round: u64,
  height: u64,
  blockHash: bytes(32),
  signers: bytes(4),
  signature: bytes(96),
})
const tcArb = fc.record({
  epoch: u64,
  round: u64,
  groups: fc.array(fc.record({ highQCRound: u64, signers: bytes(4), signature: bytes(96) }), {
    maxLength: 3,
  }),
})
const msgArb: fc.Arbitrary<ConsensusMessage> = fc.oneof(
  fc.record({
    type: fc.constant(ConsensusMessageType.Proposal),
    epoch: u64,
    round: u64,
    block: bytes(200),
    vrfProof: bytes(80),
    tc: tcArb,
    signature: bytes(64),
  }),
  fc.record({
    type: fc.constant(ConsensusMessageType.Vote),
    epoch: u64,
    round: u64,
    height: u64,
    blockHash: bytes(32),
    voter: fc.nat({ max: 1000 }),
    signature: bytes(96),
  }),
  fc.record({
    type: fc.constant(ConsensusMessageType.Timeout),
    epoch: u64,
    round: u64,
    highQC: qcArb,
    voter: fc.nat({ max: 1000 }),
    signature: bytes(96),
    lastTC: tcArb,
  }),
  fc.record({ type: fc.constant(ConsensusMessageType.Block), block: bytes(300) }),
  fc.record({
    type: fc.constant(ConsensusMessageType.CommitVote),
    epoch: u64,
    round: u64,
    height: u64,
    blockHash: bytes(32),
    voter: fc.nat({ max: 1000 }),
    signature: bytes(96),
  }),
)

describe('[messages]: codec', () => {
  it('round-trips every message type', () => {
    fc.assert(
      fc.property(msgArb, (m) => {
        expect(decodeConsensusMessage(encodeConsensusMessage(m))).toEqual(m)
      }),
    )
  })

  it('round-trips QCs, header data and block sync', () => {
    fc.assert(
      fc.property(qcArb, u64, bytes(80), (qc, round, vrfProof) => {
        expect(decodeQC(encodeQC(qc))).toEqual(qc)
        const d = { epoch: 1n, round, parentQC: qc, vrfProof }
        expect(decodeBftHeaderData(encodeBftHeaderData(d))).toEqual(d)
      }),
    )
    expect(decodeBlockSyncRequest(encodeBlockSyncRequest({ fromHeight: 9n, count: 3 }))).toEqual({
      fromHeight: 9n,
      count: 3,
    })
    const res = { blocks: [new Uint8Array([1, 2]), new Uint8Array(0)] }
    expect(decodeBlockSyncResponse(encodeBlockSyncResponse(res))).toEqual(res)
    expect(genesisQC(new Uint8Array(32)).round).toBe(0n)
  })

  it('refuses malformed input with coded errors and never crashes otherwise', () => {
    const bad = [
      rlpEncode([9]),
      rlpEncode([0, 1]),
      rlpEncode([1, 1, 1, 1, new Uint8Array(32), 1]),
      rlpEncode([2, 1, 1, [1, 2], 1, new Uint8Array(1), []]),
      rlpEncode([3]),
      rlpEncode(new Uint8Array([1, 2])),
      rlpEncode([0, 1, 1, new Uint8Array(1), new Uint8Array(1), [1], new Uint8Array(1)]),
      rlpEncode([1, 1, 1, 1, new Uint8Array(1), 1n << 40n, new Uint8Array(1)]),
      new Uint8Array([0xc5, 0x01]),
    ]
    for (const b of bad) {
      let err: unknown
      try {
        decodeConsensusMessage(b)
      } catch (e) {
        err = e
      }
      expect(isConsensusError(err), Buffer.from(b).toString('hex')).toBe(true)
    }
    expect(() => decodeBlockSyncRequest(rlpEncode([1]))).toThrow()
    expect(() => decodeBlockSyncResponse(rlpEncode([1, 2]))).toThrow()
    expect(() => decodeBftHeaderData(rlpEncode([1]))).toThrow()
    expect(() => decodeQC(rlpEncode([1]))).toThrow()
    expect(() => encodeConsensusMessage({ type: 7 } as unknown as ConsensusMessage)).toThrow(
      /unknown message type/,
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          decodeConsensusMessage(b)
        } catch (e) {
          expect(isConsensusError(e)).toBe(true)
        }
      }),
    )
  })
})

describe('[messages]: signing bytes', () => {
  it('a vote signature is never a commit vote signature (distinct tags)', () => {
    const h = new Uint8Array(32).fill(9)
    const vote = voteSigningBytes(1n, 7n, 6n, h)
    const commit = commitVoteSigningBytes(1n, 7n, 6n, h)
    expect(Buffer.from(commit).toString()).toContain('aureon/bft/commit/v1')
    expect(Buffer.compare(vote, commit)).not.toBe(0)
    // same body after the tag: the tags alone separate them
    expect(commit.subarray(-40)).toEqual(vote.subarray(-40))
  })
})

describe('[rlp]: codec', () => {
  it('matches known encodings', () => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
    expect(hex(rlpEncode(new Uint8Array(0)))).toBe('80')
    expect(hex(rlpEncode(0))).toBe('80')
    expect(hex(rlpEncode(15))).toBe('0f')
    expect(hex(rlpEncode(1024))).toBe('820400')
    expect(hex(rlpEncode([]))).toBe('c0')
    expect(hex(rlpEncode(new TextEncoder().encode('dog')))).toBe('83646f67')
    expect(hex(rlpEncode([[], [[]], [[], [[]]]]))).toBe('c7c0c1c0c3c0c1c0')
    const long = new Uint8Array(60).fill(7)
    expect(hex(rlpEncode(long)).slice(0, 4)).toBe('b83c')
    expect(rlpDecode(rlpEncode(long))).toEqual(long)
    const longList = Array.from({ length: 30 }, () => new Uint8Array([0x90, 1]))
    expect(rlpDecode(rlpEncode(longList))).toEqual(longList)
  })

  it('round-trips integers and rejects non-canonical forms', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 200n }), (n) => {
        expect(bytesToBigint(bigintToBytes(n))).toBe(n)
      }),
    )
    expect(() => bigintToBytes(-1n)).toThrow()
    expect(() => bytesToBigint(new Uint8Array([0, 1]))).toThrow(/leading zero/)
    for (const h of ['8105', 'b80100', 'b900', 'c2', '8201', 'f800', '0102', 'b8020000', '']) {
      expect(() => rlpDecode(Uint8Array.from(Buffer.from(h, 'hex'))), h).toThrow(/invalid RLP/)
    }
  })
})
