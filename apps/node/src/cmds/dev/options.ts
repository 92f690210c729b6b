export interface DevOptions {
  dataDir: string
  blockTime: string
  accounts: string
  'rpc.host'?: string
  'rpc.port'?: string
  'log.level'?: string
}

export const devDefaults = { dataDir: './.aureon', blockTime: '0', accounts: '10' }
