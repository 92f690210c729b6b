import { createKeccak } from 'hash-wasm'

const hasher = await createKeccak(256)

/**
 * keccak256 (Ethereum's, not SHA3-256) through hash-wasm's WASM keccak: about 8x faster than a
 * pure-JS keccak for trie-node-sized inputs. Synchronous.
 *
 * @example
 * keccak256(new Uint8Array()) // c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470
 */
export function keccak256(data: Uint8Array): Uint8Array {
  hasher.init()
  hasher.update(data)
  return hasher.digest('binary')
}
