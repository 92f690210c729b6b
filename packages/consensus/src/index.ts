// Interfaces: ConsensusEngine, Transport, messages, ConsensusChain
export * from './types.js'
