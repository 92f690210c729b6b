import { createHash, hash } from 'node:crypto'

/**
 * sha256 via node:crypto (same digest as @aureon/crypto's sha256; local to keep the hot path
 * free of wrappers).
 * @example
 * sha256(new Uint8Array()) // e3b0c442...
 */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) {
    // one-shot: no Hash object (several times faster for small inputs)
    const d = hash('sha256', parts[0], 'buffer')
    return new Uint8Array(d.buffer, d.byteOffset, d.length)
  }
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  const d = h.digest()
  return new Uint8Array(d.buffer, d.byteOffset, d.length)
}

/** sha256 of the empty string: the code hash of accounts without code. */
export const EMPTY_CODE_HASH: Uint8Array = sha256()

/** keccak256(RLP('')): root of an empty Merkle Patricia trie. */
export const EMPTY_TRIE_ROOT: Uint8Array = new Uint8Array(
  Buffer.from('56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421', 'hex'),
)
