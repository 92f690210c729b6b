export interface RunOptions {
  config?: string
  dataDir?: string
  stateSync?: boolean
  [flag: string]: unknown
}
