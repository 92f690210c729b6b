// Interfaces and option types

// Error codes, error class, guard
export * from './errors.js'
// Export (streaming) and verified, crash-safe import
export * from './export.js'
// Byte layouts of manifests and chunks, zstd
export * from './format.js'
export * from './import.js'
// Folders and packed files: open, list, pack, unpack
export * from './io.js'
// Node-side helpers: one folder per height, keep the last K
export * from './manage.js'
// Constants: format version, chunk size limit, magics
export * from './params.js'
// State sync: chunks from several sources in parallel
export * from './sync.js'
export type { NodeReader, NodeSink, TrieLeaf, VerifyRangeOptions, WalkedLeaf } from './trie.js'
// Trie pieces: leaf walk, edge proofs, range verification
export {
  buildSubtree,
  proofPath,
  trieRoot,
  verifyKeyProof,
  verifyRange,
  walkLeafBatches,
  walkLeaves,
} from './trie.js'
export * from './types.js'
export * from './verify.js'
// Verification on worker threads
export * from './verify-pool.js'
