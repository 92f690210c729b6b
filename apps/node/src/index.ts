// Node assembly

// Dev accounts and genesis generation
export * from './accounts.js'
// Ledger-backed ConsensusChain and RPC backend
export * from './backend.js'
// BFT state sync: validator sets below the snapshot (proven)
export * from './bft-state-sync.js'
// Block sync (dev, poa, pow) and the history below a snapshot
export * from './block-sync.js'
// Configuration, logging, metrics
export * from './config.js'
export * from './genesis-gen.js'
export * from './ledger-chain.js'
export * from './logger.js'
export * from './metrics.js'
export * from './node.js'
// Starting from a snapshot: block H next to it, verified import, anchoring
export * from './snapshot-anchor.js'
// State sync over p2p: serving and fetching snapshots
export * from './state-sync.js'
