export interface SnapshotCommonOptions {
  dataDir: string
  height?: string
  /** LevelDB `maxOpenFiles` for the data folder (create/export default 74, import 1000). */
  maxOpenFiles?: string
}

export const snapshotDefaults = { dataDir: './.aureon' }

/** Help of --max-open-files (create, export, import). */
export const MAX_OPEN_FILES_HELP =
  "LevelDB table files kept open (and memory-mapped): create and export default to 74 (LevelDB's minimum), which bounds that part of the RSS whatever the state size; import defaults to LevelDB's 1000"

/** Help of --verify-workers (import). */
export const VERIFY_WORKERS_HELP =
  'worker threads that verify chunks beside the main thread (default 1 on 2+ cores; 0 verifies on the main thread only: about 80 MiB less peak RSS, about 13% slower at 1M accounts)'
