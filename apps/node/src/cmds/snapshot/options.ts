export interface SnapshotCommonOptions {
  dataDir: string
  height?: string
  /** LevelDB `maxOpenFiles` for the data folder (create/export default 76, import 1000). */
  maxOpenFiles?: string
}

export const snapshotDefaults = { dataDir: './.aureon' }

/** Help of --max-open-files (create, export, import). */
export const MAX_OPEN_FILES_HELP =
  "LevelDB table files kept open (and memory-mapped): create and export default to 76 (LevelDB's minimum is 74), which bounds that part of the RSS whatever the state size; import defaults to LevelDB's 1000"
