// Interfaces and options

export {
  createStateTreeFromEntries,
  type WriteEntriesOptions,
  writeStateTreeFromEntries,
} from './build.js'
// Errors
export * from './errors.js'
// Hashing
export * from './keccak.js'
// Constants
export * from './params.js'
// Proof verification
export * from './proof.js'
// RLP encoding (bytes and nested lists)
export { encodeRLP, type RLPInput } from './rlp.js'
// State tree
export { createStateTree, MPTStateTree } from './state-tree.js'
export * from './types.js'
