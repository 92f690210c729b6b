/** BFT: round timeout before backoff (ms). */
export const BFT_BASE_TIMEOUT_MS = 1000
/** BFT: the round timeout doubles per consecutive timeout up to 2^this. */
export const BFT_MAX_BACKOFF_EXPONENT = 6
/** BFT: blocks asked per block-sync request. */
export const BFT_SYNC_BATCH = 64
/** PoA: a not-in-turn authority may seal after this many ms past the in-turn deadline. */
export const POA_OUT_OF_TURN_DELAY_MS = 2000
/** PoW: default target block time (ms). */
export const POW_TARGET_BLOCK_TIME_MS = 1000
/** PoW: blocks between difficulty retargets. */
export const POW_RETARGET_INTERVAL = 10n
/** PoW: least difficulty (expected hashes per block). */
export const POW_MIN_DIFFICULTY = 1n
