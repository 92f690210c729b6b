export interface SnapshotCommonOptions {
  dataDir: string
  height?: string
  /** LevelDB `maxOpenFiles` for the data folder (74 bounds the mapped table pages; slower). */
  maxOpenFiles?: string
}

export const snapshotDefaults = { dataDir: './.aureon' }

/** Help of --max-open-files (create, export, import). */
export const MAX_OPEN_FILES_HELP =
  "LevelDB table files kept open (and memory-mapped): 74, the minimum, bounds that part of the RSS whatever the state size, but an export then takes about twice as long (default: LevelDB's 1000)"
