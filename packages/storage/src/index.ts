// Interfaces and options

// Helpers
export * from './clear.js'
// Errors
export * from './errors.js'
export * from './level.js'
// Implementations
export * from './memory.js'
// Constants
export * from './params.js'
export * from './types.js'
