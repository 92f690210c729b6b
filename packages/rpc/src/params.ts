/** Limits and defaults of the API server. */

/** Default bind address: loopback only. */
export const DEFAULT_HOST = '127.0.0.1'
/** Default port of the API. */
export const DEFAULT_PORT = 8545
/** Largest request body (a 640 KiB transaction is 1.25 MiB as hex). */
export const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024
/** Longest time a handler may take before the request fails with 503 ERR_TIMEOUT. */
export const DEFAULT_HANDLER_TIMEOUT_MS = 10_000
/** Longest time to receive a whole request (slow clients are cut off). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
/** Requests per second per IP (token bucket refill) and burst size. */
export const DEFAULT_RATE_LIMIT = { perSecond: 200, burst: 400 } as const
/** Largest WebSocket message a client may send. */
export const WS_MAX_PAYLOAD = 64 * 1024
/** Messages a WebSocket client may send per second (token bucket refill) and burst size. */
export const WS_MESSAGES_PER_SECOND = 50
export const WS_MESSAGE_BURST = 100
/** Most subscriptions per WebSocket connection. */
export const DEFAULT_WS_MAX_SUBSCRIPTIONS = 64
/** Most WebSocket connections at once. */
export const DEFAULT_WS_MAX_CONNECTIONS = 10_000
/** Bytes a connection may have queued before it is closed as a slow consumer. */
export const DEFAULT_WS_MAX_BUFFERED_BYTES = 4 * 1024 * 1024
/** Interval of the server's ping; a connection that misses a pong is closed. */
export const DEFAULT_WS_HEARTBEAT_MS = 30_000
/** Most blocks a `new_blocks` subscription may backfill with `fromHeight`. */
export const DEFAULT_WS_MAX_BACKFILL = 1_000
/** Close code for a slow consumer (application range 4000-4999). */
export const WS_CLOSE_SLOW_CONSUMER = 4008
/** Close code when the heartbeat pong did not arrive. */
export const WS_CLOSE_HEARTBEAT_TIMEOUT = 4000
/** Close code when the server shuts down (standard "going away"). */
export const WS_CLOSE_GOING_AWAY = 1001
/** Largest storage key (HOST_ABI.md). */
export const MAX_STORAGE_KEY_BYTES = 128
/** Largest u64. */
export const MAX_U64 = (1n << 64n) - 1n
/** Largest u128. */
export const MAX_U128 = (1n << 128n) - 1n
/** Number of blocks listed by the explorer. */
export const EXPLORER_RECENT_BLOCKS = 20
