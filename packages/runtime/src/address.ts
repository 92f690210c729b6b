import { createHash } from 'node:crypto'

const PREFIX = new TextEncoder().encode('aureon/contract')

/** RLP of a non-negative integer (big-endian, no leading zeros; 0 is the empty string). */
export function rlpEncodeUint(v: bigint): Uint8Array {
  if (v === 0n) return Uint8Array.of(0x80)
  const bytes: number[] = []
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn))
    v >>= 8n
  }
  if (bytes.length === 1 && bytes[0] < 0x80) return Uint8Array.from(bytes)
  return Uint8Array.from([0x80 + bytes.length, ...bytes])
}

/**
 * The address of a contract: the first 20 bytes of
 * sha256("aureon/contract" || deployer || RLP(deployer nonce)). Same rule as the ledger's
 * `contractAddress`.
 *
 * @example
 * const address = deriveContractAddress(deployer, 0n)
 */
export function deriveContractAddress(deployer: Uint8Array, nonce: bigint): Uint8Array {
  const h = createHash('sha256').update(PREFIX).update(deployer).update(rlpEncodeUint(nonce))
  return new Uint8Array(h.digest().subarray(0, 20))
}
