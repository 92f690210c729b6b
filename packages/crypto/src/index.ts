// Errors and constants

// Addresses
export * from './address.js'
// BLS12-381 (Ethereum POP scheme; blst native, herumi WASM fallback)
export * from './bls.js'
// Bytes and hex
export * from './bytes.js'
// ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381)
export * from './ecvrf.js'
// Ed25519 (pinned validity rule, node:crypto hot path)
export * from './ed25519.js'
export * from './errors.js'
// Hashes
export * from './hashes.js'
// Key files (JSON, optional scrypt + AES-256-GCM encryption, mode 0600)
export * from './keyfile.js'
export * from './params.js'
// Interfaces and options
export * from './types.js'
// Batch signature verification (main thread, worker pool)
export * from './verifier.js'
