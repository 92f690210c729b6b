export const DEFAULT_RPC = 'http://127.0.0.1:8545'
