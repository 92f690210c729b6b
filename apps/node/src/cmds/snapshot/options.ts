export interface SnapshotCommonOptions {
  dataDir: string
  height?: string
}

export const snapshotDefaults = { dataDir: './.aureon' }
