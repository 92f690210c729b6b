// Interfaces and option types

// Accounts, validator records, contract addresses
export * from './account.js'
// Blocks, headers, receipts, roots
export * from './block.js'
// Chain store
export * from './chain-store.js'
// Strict RLP helpers
export * from './codec.js'
// Error codes, error class, guard
export * from './errors.js'
// Genesis
export * from './genesis.js'
// Hashes and empty roots
export * from './hash.js'
// Constants: gas schedule, limits, default parameters
export * from './params.js'
// State transition
export * from './processor.js'
// World state over the Merkle trie
export * from './state.js'
export * from './trie-root.js'
// Transactions: encoding, signing, hash, sender, intrinsic gas, validation
export * from './tx.js'
// Transaction pool
export * from './txpool.js'
export * from './types.js'
// Signature batches
export * from './verify.js'
