export interface TxCommonOptions {
  key: string
  rpc: string
  gasPrice?: string
  gasLimit?: string
  nonce?: string
  wait: boolean
  timeout: string
}

export const DEFAULT_RPC = 'http://127.0.0.1:8545'
