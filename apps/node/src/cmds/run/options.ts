export interface RunOptions {
  config?: string
  dataDir?: string
  [flag: string]: unknown
}
