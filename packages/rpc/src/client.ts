/**
 * The typed client, built from the same route table as the server, and `subscribe()` over the
 * WebSocket with automatic reconnect and `new_blocks` backfill.
 */
import WebSocket from 'ws'
import { RPCError, RPCErrorCode } from './errors.js'
import { type Endpoints, pathParamNames, queryParamNames, type RouteId, routes } from './routes.js'
import type { BlockJson, WsServerMessage } from './types.js'

export interface ClientOptions {
  /** Base URL of the node, e.g. `http://127.0.0.1:8545`. */
  url: string
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number
  /** Extra headers on every request. */
  headers?: Record<string, string>
  /** fetch implementation (default: the global one). */
  fetch?: typeof fetch
}

export type RPCClient = {
  [K in RouteId]: undefined extends Endpoints[K]['args']
    ? (args?: Endpoints[K]['args']) => Promise<Endpoints[K]['response']>
    : (args: Endpoints[K]['args']) => Promise<Endpoints[K]['response']>
} & {
  /** Subscribes to a channel over `/ws`, reconnecting (and backfilling new_blocks) on drops. */
  subscribe<T = unknown>(
    channel: string,
    onEvent: (data: T) => void,
    opts?: SubscribeOptions,
  ): Subscription
  readonly url: string
}

export interface SubscribeOptions {
  /** new_blocks only: first height to deliver (blocks from it to head are backfilled). */
  fromHeight?: number
  /** Reconnect after a drop (default true). */
  reconnect?: boolean
  /** First reconnect delay in ms (doubles up to maxDelayMs; default 250). */
  minDelayMs?: number
  maxDelayMs?: number
  /** Called on server errors and connection drops. */
  onError?: (err: RPCError) => void
  /** Called each time the subscription is (re)established. */
  onSubscribed?: () => void
}

export interface Subscription {
  /** Stops the subscription and closes its socket. */
  close(): void
  /** Resolves once the first `subscribed` reply arrived. */
  readonly ready: Promise<void>
}

/**
 * A typed client for a node's API: one method per route of the route table.
 * @example
 * const client = createClient({ url: 'http://127.0.0.1:8545' })
 * const head = await client.getHead()
 * const block = await client.getBlock({ id: head.height, txs: 'full' })
 */
export function createClient(opts: ClientOptions): RPCClient {
  const base = opts.url.replace(/\/+$/, '')
  const doFetch = opts.fetch ?? fetch
  const timeoutMs = opts.timeoutMs ?? 10_000
  const client: Record<string, unknown> = { url: base }
  for (const [id, def] of Object.entries(routes)) {
    const pnames = pathParamNames(def.url)
    const qnames = queryParamNames(def)
    client[id] = async (args: Record<string, unknown> = {}) => {
      let path = def.url
      for (const p of pnames) {
        if (args[p] === undefined)
          throw new RPCError(RPCErrorCode.BAD_REQUEST, `${id}: missing argument ${p}`)
        path = path.replace(`:${p}`, encodeURIComponent(String(args[p])))
      }
      const qs = new URLSearchParams()
      for (const q of qnames) if (args[q] !== undefined) qs.set(q, String(args[q]))
      let body: string | undefined
      if (def.method === 'POST') {
        const b: Record<string, unknown> = {}
        for (const [k, v] of Object.entries(args))
          if (!pnames.includes(k) && !qnames.includes(k) && v !== undefined) b[k] = v
        body = JSON.stringify(b)
      }
      const q = qs.toString()
      const url = `${base}${path}${q ? `?${q}` : ''}`
      let res: Response
      try {
        res = await doFetch(url, {
          method: def.method,
          headers: {
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...opts.headers,
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (e) {
        throw new RPCError(
          RPCErrorCode.NETWORK,
          `${def.method} ${url} failed: ${(e as Error).message}`,
          { status: 0, cause: e },
        )
      }
      let json: any
      try {
        json = await res.json()
      } catch (e) {
        throw new RPCError(
          RPCErrorCode.BAD_RESPONSE,
          `${def.method} ${url}: response is not JSON (status ${res.status})`,
          {
            status: res.status,
            cause: e,
          },
        )
      }
      if (!res.ok && !(id === 'getHealth' && res.status === 503)) {
        const err = json?.error ?? {}
        throw new RPCError(
          String(err.code ?? RPCErrorCode.BAD_RESPONSE),
          String(err.message ?? `status ${res.status}`),
          {
            status: res.status,
            details: err.details,
          },
        )
      }
      return json
    }
  }
  client.subscribe = (
    channel: string,
    onEvent: (d: unknown) => void,
    sopts: SubscribeOptions = {},
  ) => subscribeChannel(base, channel, onEvent, sopts)
  return client as RPCClient
}

function subscribeChannel(
  base: string,
  channel: string,
  onEvent: (d: unknown) => void,
  opts: SubscribeOptions,
): Subscription {
  const wsUrl = `${base.replace(/^http/, 'ws')}/ws`
  const minDelay = opts.minDelayMs ?? 250
  const maxDelay = opts.maxDelayMs ?? 10_000
  let delay = minDelay
  let closed = false
  let socket: WebSocket | undefined
  let timer: NodeJS.Timeout | undefined
  let nextHeight = opts.fromHeight
  let resolveReady!: () => void
  const ready = new Promise<void>((r) => {
    resolveReady = r
  })

  const connect = () => {
    if (closed) return
    const s = new WebSocket(wsUrl)
    socket = s
    s.on('open', () => {
      const msg: Record<string, unknown> = { op: 'subscribe', channel }
      if (channel === 'new_blocks' && nextHeight !== undefined) msg.fromHeight = nextHeight
      s.send(JSON.stringify(msg))
    })
    s.on('message', (raw) => {
      let m: WsServerMessage
      try {
        m = JSON.parse(raw.toString())
      } catch {
        return
      }
      if (m.op === 'subscribed') {
        delay = minDelay
        resolveReady()
        opts.onSubscribed?.()
      } else if (m.op === 'event') {
        if (channel === 'new_blocks') {
          const h = (m.data as BlockJson).height
          if (nextHeight !== undefined && h < nextHeight) return // duplicate after a reconnect
          nextHeight = h + 1
        }
        onEvent(m.data)
      } else if (m.op === 'error') {
        opts.onError?.(new RPCError(m.error.code, m.error.message))
      }
    })
    s.on('error', (e) => {
      opts.onError?.(
        new RPCError(RPCErrorCode.NETWORK, `websocket ${wsUrl}: ${e.message}`, {
          status: 0,
          cause: e,
        }),
      )
    })
    s.on('close', (code, reason) => {
      if (socket === s) socket = undefined
      if (closed) return
      opts.onError?.(
        new RPCError(
          RPCErrorCode.NETWORK,
          `websocket closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`,
          {
            status: 0,
            details: { closeCode: code },
          },
        ),
      )
      if (opts.reconnect === false) return
      timer = setTimeout(connect, delay)
      delay = Math.min(maxDelay, delay * 2)
    })
  }
  connect()
  return {
    ready,
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      if (socket && socket.readyState <= 1) socket.close(1000)
    },
  }
}
