// Interfaces: ConsensusEngine, Transport, messages, ConsensusChain

export * from './bft/engine.js'
// BFT engine
export * from './bft/leader.js'
export * from './bft/qc.js'
export * from './bft/safety.js'
export * from './bft/simulation.js'
// Clocks, PRNG, simulated network
export * from './clock.js'
// Dev, PoA and PoW engines
export * from './dev.js'
// Errors and constants
export * from './errors.js'
export * from './fork-choice.js'
// Chains
export * from './memory-chain.js'
// Wire codecs and signing bytes
export * from './messages.js'
export * from './params.js'
export * from './poa.js'
export * from './pow.js'
export * from './prng.js'
export * from './rlp.js'
export * from './sim-network.js'
export * from './types.js'
