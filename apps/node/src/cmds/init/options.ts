export interface InitOptions {
  validators: string
  engine: 'bft' | 'poa' | 'pow' | 'dev'
  out: string
  chainId: string
  p2pPort: string
  rpcPort: string
  blockTime: string
  force?: boolean
}

export const initDefaults = {
  validators: '4',
  engine: 'bft',
  out: './network',
  chainId: '1000',
  p2pPort: '30400',
  rpcPort: '8600',
  blockTime: '1000',
}
