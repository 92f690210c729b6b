import {
  MerklePatriciaTrie,
  verifyMerkleRangeProof,
  verifyMPTWithMerkleProof,
} from '@ethereumjs/mpt'
import { MerkleError, MerkleErrorCode } from './errors.js'
import { keccak256 } from './keccak.js'
import { EMPTY_TRIE_ROOT } from './params.js'
import type { VerifyProofOptions, VerifyRangeProofOptions } from './types.js'

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/**
 * Verifies an inclusion or absence proof against `root`: returns the value, or `undefined` when
 * the proof shows the key is absent. Throws MerkleError `ERR_INVALID_PROOF` on a bad proof.
 *
 * @example
 * const proof = await tree.createProof(key)
 * const value = await verifyProof({ root: tree.root(), key, proof })
 */
export async function verifyProof(opts: VerifyProofOptions): Promise<Uint8Array | undefined> {
  const { root, key, proof } = opts
  if (!(root instanceof Uint8Array) || root.length !== 32 || !(key instanceof Uint8Array)) {
    throw new MerkleError(MerkleErrorCode.INVALID_INPUT, 'invalid root or key: expected bytes')
  }
  if (!Array.isArray(proof) || !proof.every((n) => n instanceof Uint8Array)) {
    throw new MerkleError(MerkleErrorCode.INVALID_PROOF, 'invalid proof: expected Uint8Array[]')
  }
  if (proof.length === 0 && equal(root, EMPTY_TRIE_ROOT)) return undefined // the empty trie
  const trie = new MerklePatriciaTrie({
    useKeyHashing: opts.secure ?? true,
    useKeyHashingFunction: keccak256,
  })
  try {
    const v = await verifyMPTWithMerkleProof(trie, root, key, proof)
    return v ?? undefined
  } catch (e) {
    throw new MerkleError(
      MerkleErrorCode.INVALID_PROOF,
      `invalid proof for root 0x${Buffer.from(root).toString('hex')}: ${(e as Error).message}`,
      { cause: e },
    )
  }
}

/**
 * Verifies a range proof (a contiguous run of leaves from `startKeyHash`) against `root`.
 * Returns `{ hasMore }`: whether leaves exist after the last key. Throws MerkleError
 * `ERR_INVALID_RANGE_PROOF` when the run is not exactly the trie's leaves in that range.
 *
 * @example
 * const rp = await tree.createRangeProof({ startKeyHash: new Uint8Array(32), limit: 100 })
 * const { hasMore } = await verifyRangeProof({ root: tree.root(), ...rp })
 */
export async function verifyRangeProof(
  opts: VerifyRangeProofOptions,
): Promise<{ hasMore: boolean }> {
  const { root, startKeyHash, keys, values, proof } = opts
  try {
    const last = keys.length > 0 ? keys[keys.length - 1] : null
    const hasMore = await verifyMerkleRangeProof(
      root,
      startKeyHash,
      last,
      keys,
      values,
      proof,
      keccak256,
    )
    return { hasMore }
  } catch (e) {
    throw new MerkleError(
      MerkleErrorCode.INVALID_RANGE_PROOF,
      `invalid range proof for root 0x${Buffer.from(root).toString('hex')}: ${(e as Error).message}`,
      { cause: e },
    )
  }
}
