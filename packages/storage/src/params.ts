/** Entries fetched from the underlying iterator per round trip. */
export const ITERATE_CHUNK = 1000
/** Default LevelDB block cache (bytes). */
export const DEFAULT_LEVEL_CACHE_SIZE = 32 * 1024 * 1024
/** Default LevelDB write buffer (bytes). */
export const DEFAULT_LEVEL_WRITE_BUFFER_SIZE = 16 * 1024 * 1024
