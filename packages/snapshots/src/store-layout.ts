/**
 * How the state lives in a KVStore (the layout of @aureon/merkle and @aureon/ledger): trie nodes
 * by their keccak256 hash in the state store, contract code by sha256 in its `code` namespace.
 */
import type { BatchOp, KVStore } from '@aureon/storage'
import { CODE_NAMESPACE } from './params.js'
import type { NodeReader } from './trie.js'

/** Reads trie nodes by hash from a state store. */
export function storeNodeReader(stateDb: KVStore): NodeReader {
  return (hashes) =>
    hashes.length === 1 ? stateDb.get(hashes[0]).then((v) => [v]) : stateDb.getMany(hashes)
}

/** The batch op that stores a trie node (relative to the state store). */
export function nodeOp(hash: Uint8Array, rlp: Uint8Array): BatchOp {
  return { type: 'put', key: hash, value: rlp }
}

/** The batch op that stores a code blob (relative to the state store). */
export function codeOp(hash: Uint8Array, code: Uint8Array): BatchOp {
  return { type: 'put', key: hash, value: code, namespace: [CODE_NAMESPACE] }
}

/** Reads code by hash from a state store. */
export function readCode(stateDb: KVStore, hash: Uint8Array): Promise<Uint8Array | undefined> {
  return stateDb.namespace(CODE_NAMESPACE).get(hash)
}
