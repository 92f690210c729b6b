// Errors

export * from './abi.js'
// Addresses
export * from './address.js'
// Module cache
export * from './cache.js'
// V8 tier contracts run in (the schedule is calibrated on optimized code)
export * from './engine.js'
export * from './errors.js'
export * from './executor.js'
// Host functions
export * from './host.js'
// Validation and instrumentation
export * from './instrument.js'
// Ledger adapters: LedgerRuntimeState and the ledger's ContractExecutor
export * from './ledger-state.js'
// ABI limits and the gas schedule
export * from './params.js'
// The runtime
export * from './runtime.js'
// RuntimeState implementations
export * from './state.js'
// Types: RuntimeState, results, contexts
export * from './types.js'
