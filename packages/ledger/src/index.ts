// Interfaces and option types

// Error codes, error class, guard
export * from './errors.js'
// Constants: gas schedule, limits, default parameters
export * from './params.js'
export * from './types.js'
