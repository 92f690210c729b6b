// Promise.withResolvers polyfill (Node 20); loaded first

// Error codes, error class, guard
export * from './errors.js'
// Length-prefixed framing helpers
export * from './framing.js'
// The libp2p host (implements @aureon/consensus's Transport)
export * from './node.js'
// Protocol ids, topic names, default limits and scoring
export * from './params.js'
export * from './polyfill.js'
// Rate limits and peer scores
export * from './scoring.js'
// Status handshake payload codec
export * from './status.js'
// Interfaces and option types
export * from './types.js'
export * from './wire.js'
