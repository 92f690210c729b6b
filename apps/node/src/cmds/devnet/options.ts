export interface DevnetOptions {
  validators: string
  dir: string
  engine: 'bft' | 'poa' | 'pow'
  p2pPort: string
  rpcPort: string
  keep?: boolean
}

export const devnetDefaults = {
  validators: '4',
  dir: './.aureon-devnet',
  engine: 'bft',
  p2pPort: '30400',
  rpcPort: '8600',
}
