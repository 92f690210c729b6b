/**
 * The status handshake payload: fixed 81 bytes,
 * `version(1) | chainId u64 BE (8) | genesisHash (32) | headHeight u64 BE (8) | headHash (32)`.
 */
import { P2PError, P2PErrorCode } from './errors.js'
import { STATUS_LENGTH, STATUS_VERSION } from './params.js'
import type { ChainStatus } from './types.js'

const U64_MAX = (1n << 64n) - 1n

function checkHash(h: Uint8Array, what: string): void {
  if (h.length !== 32) {
    throw new P2PError(P2PErrorCode.INVALID_MESSAGE, `${what} must be 32 bytes, got ${h.length}`)
  }
}

function checkU64(v: bigint, what: string): void {
  if (v < 0n || v > U64_MAX) {
    throw new P2PError(P2PErrorCode.INVALID_MESSAGE, `${what} must be a u64, got ${v}`)
  }
}

/**
 * Encodes a status (81 bytes).
 * @example
 * const bytes = encodeStatus({ chainId: 1n, genesisHash, headHeight: 0n, headHash: genesisHash })
 */
export function encodeStatus(s: ChainStatus): Uint8Array {
  checkU64(s.chainId, 'chainId')
  checkU64(s.headHeight, 'headHeight')
  checkHash(s.genesisHash, 'genesisHash')
  checkHash(s.headHash, 'headHash')
  const out = new Uint8Array(STATUS_LENGTH)
  const view = new DataView(out.buffer)
  out[0] = STATUS_VERSION
  view.setBigUint64(1, s.chainId)
  out.set(s.genesisHash, 9)
  view.setBigUint64(41, s.headHeight)
  out.set(s.headHash, 49)
  return out
}

/**
 * Decodes a status; throws `ERR_INVALID_MESSAGE` on a wrong length or version.
 * @example
 * const status = decodeStatus(bytes)
 */
export function decodeStatus(b: Uint8Array): ChainStatus {
  if (b.length !== STATUS_LENGTH) {
    throw new P2PError(
      P2PErrorCode.INVALID_MESSAGE,
      `status must be ${STATUS_LENGTH} bytes, got ${b.length}`,
    )
  }
  if (b[0] !== STATUS_VERSION) {
    throw new P2PError(
      P2PErrorCode.INVALID_MESSAGE,
      `status version ${b[0]} is not supported (expected ${STATUS_VERSION})`,
    )
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return {
    chainId: view.getBigUint64(1),
    genesisHash: b.slice(9, 41),
    headHeight: view.getBigUint64(41),
    headHash: b.slice(49, 81),
  }
}

function hex(b: Uint8Array): string {
  return `0x${Buffer.from(b).toString('hex')}`
}

/**
 * Why a remote status is not compatible with ours, or undefined if it is.
 * @example
 * statusMismatch(ours, theirs) // 'chain id 7 differs from ours (1)'
 */
export function statusMismatch(ours: ChainStatus, theirs: ChainStatus): string | undefined {
  if (theirs.chainId !== ours.chainId) {
    return `chain id ${theirs.chainId} differs from ours (${ours.chainId})`
  }
  if (Buffer.compare(theirs.genesisHash, ours.genesisHash) !== 0) {
    return `genesis ${hex(theirs.genesisHash)} differs from ours (${hex(ours.genesisHash)})`
  }
  return undefined
}
