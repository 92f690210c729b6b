// Node assembly

// Dev accounts and genesis generation
export * from './accounts.js'
// Ledger-backed ConsensusChain and RPC backend
export * from './backend.js'
// Configuration, logging, metrics
export * from './config.js'
export * from './genesis-gen.js'
export * from './ledger-chain.js'
export * from './logger.js'
export * from './metrics.js'
export * from './node.js'
