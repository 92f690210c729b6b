/**
 * The two hashes of a snapshot, imported directly from their libraries (not through
 * @aureon/crypto and @aureon/merkle) so a verification worker loads only what verifying needs.
 */
import { createHash } from 'node:crypto'
import { createKeccak } from 'hash-wasm'

/**
 * SHA-256 through node:crypto (as @aureon/crypto's `sha256`): chunk and code hashes.
 * @example
 * sha256(new Uint8Array()) // e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
 */
export function sha256(data: Uint8Array): Uint8Array {
  const d = createHash('sha256').update(data).digest()
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
}

const keccak = await createKeccak(256)

/**
 * keccak256 (Ethereum's, not SHA3-256) through hash-wasm's WASM keccak, as @aureon/merkle's
 * `keccak256` (the tests hold the two equal): trie node hashes and hashed keys.
 * @example
 * keccak256(new Uint8Array()) // c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470
 */
export function keccak256(data: Uint8Array): Uint8Array {
  keccak.init()
  keccak.update(data)
  return keccak.digest('binary')
}
