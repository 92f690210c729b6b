/**
 * The WebSocket side of the API (`/ws`): subscriptions to `new_blocks` (with `fromHeight`
 * backfill), `tx_status:<hash>` and `contract_logs:<address>`; heartbeat; a per-connection
 * subscription limit; slow consumers closed with code 4008 instead of buffering without bound.
 */
import type { WebSocket } from 'ws'
import { RPCErrorCode } from './errors.js'
import { blockToJson, receiptToJson, toHex } from './json.js'
import {
  WS_CLOSE_GOING_AWAY,
  WS_CLOSE_HEARTBEAT_TIMEOUT,
  WS_CLOSE_SLOW_CONSUMER,
  WS_MESSAGE_BURST,
  WS_MESSAGES_PER_SECOND,
} from './params.js'
import { RateLimiter } from './rate-limit.js'
import type {
  ContractLogEventJson,
  RPCBackend,
  RPCLogger,
  RPCMetrics,
  RPCNewBlockEvent,
  RPCTxStatusEvent,
  RPCWebSocketOptions,
  TxStatusEventJson,
} from './types.js'

const OPEN = 1
const CHANNEL_RE = /^(new_blocks|tx_status:0x[0-9a-fA-F]{64}|contract_logs:0x[0-9a-fA-F]{40})$/

/**
 * Checks and normalizes a channel name (hex lowercased), or returns undefined.
 * @example
 * parseChannel('tx_status:0xAB..') // 'tx_status:0xab..'
 */
export function parseChannel(channel: unknown): string | undefined {
  if (typeof channel !== 'string' || !CHANNEL_RE.test(channel)) return undefined
  return channel.toLowerCase()
}

interface Connection {
  socket: WebSocket
  subs: Set<string>
  /** Key of its message token bucket (flood guard). */
  id: string
  alive: boolean
  /** Live new_blocks events held back while a backfill runs. */
  backfill?: { queue: { height: number; msg: string }[] }
  closed: boolean
}

export interface WsHubOptions extends RPCWebSocketOptions {
  backend: RPCBackend
  logger?: RPCLogger | null
  metrics?: RPCMetrics | null
}

/** Connections, subscriptions and fan-out of events to them. */
export class WsHub {
  private readonly conns = new Set<Connection>()
  private readonly messageLimiter = new RateLimiter(WS_MESSAGES_PER_SECOND, WS_MESSAGE_BURST)
  private nextId = 0
  private readonly channels = new Map<string, Set<Connection>>()
  private readonly unlisten: (() => void)[] = []
  private heartbeat?: NodeJS.Timeout
  private closing = false

  constructor(private readonly opts: WsHubOptions) {
    this.unlisten.push(opts.backend.events.onBlock((e) => this.onBlock(e)))
    const onTx = opts.backend.events.onTxStatus
    if (onTx) this.unlisten.push(onTx.call(opts.backend.events, (e) => this.onTxStatus(e)))
    if (opts.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.beat(), opts.heartbeatMs)
      this.heartbeat.unref()
    }
  }

  /** Number of open connections. */
  get size(): number {
    return this.conns.size
  }

  /** Number of connections subscribed to `channel`. */
  subscribers(channel: string): number {
    return this.channels.get(channel)?.size ?? 0
  }

  /** Takes over an accepted WebSocket. */
  handle(socket: WebSocket): void {
    if (this.closing || this.conns.size >= this.opts.maxConnections) {
      socket.close(1013, 'too many connections, try again later')
      return
    }
    const conn: Connection = {
      socket,
      subs: new Set(),
      alive: true,
      closed: false,
      id: String(++this.nextId),
    }
    this.conns.add(conn)
    this.opts.metrics?.wsConnections(this.conns.size)
    socket.on('pong', () => {
      conn.alive = true
    })
    socket.on('message', (data, isBinary) => {
      conn.alive = true
      if (this.messageLimiter.take(conn.id) > 0) {
        const msg = `at most ${WS_MESSAGES_PER_SECOND} messages per second; message dropped`
        return this.reply(conn, this.error(RPCErrorCode.RATE_LIMITED, msg))
      }
      if (isBinary)
        return this.reply(conn, this.error(RPCErrorCode.BAD_MESSAGE, 'send text JSON messages'))
      void this.onMessage(conn, data.toString()).catch((e) => {
        this.opts.logger?.warn({ err: e }, 'rpc: ws message handling failed')
        this.reply(
          conn,
          this.error(RPCErrorCode.INTERNAL, 'the server could not handle the message'),
        )
      })
    })
    socket.on('close', () => this.drop(conn))
    socket.on('error', () => this.drop(conn))
  }

  private error(code: string, message: string, id?: unknown) {
    return { op: 'error', error: { code, message }, ...(id !== undefined ? { id } : {}) }
  }

  private reply(conn: Connection, msg: unknown): void {
    this.send(conn, JSON.stringify(msg))
  }

  /** Sends a serialized message; closes the connection if it is too far behind. */
  private send(conn: Connection, msg: string): void {
    if (conn.closed || conn.socket.readyState !== OPEN) return
    if (conn.socket.bufferedAmount + msg.length > this.opts.maxBufferedBytes) {
      this.kill(
        conn,
        WS_CLOSE_SLOW_CONSUMER,
        `slow consumer: more than ${this.opts.maxBufferedBytes} bytes queued`,
      )
      return
    }
    conn.socket.send(msg)
  }

  private kill(conn: Connection, code: number, reason: string): void {
    this.drop(conn)
    try {
      conn.socket.close(code, reason)
    } catch {
      // already closing
    }
    const t = setTimeout(() => conn.socket.terminate(), 1_000)
    t.unref()
  }

  private drop(conn: Connection): void {
    if (conn.closed) return
    conn.closed = true
    this.messageLimiter.forget(conn.id)
    this.conns.delete(conn)
    for (const ch of conn.subs) this.unsub(conn, ch)
    this.opts.metrics?.wsConnections(this.conns.size)
  }

  private unsub(conn: Connection, channel: string): void {
    conn.subs.delete(channel)
    const set = this.channels.get(channel)
    if (!set) return
    set.delete(conn)
    if (set.size === 0) this.channels.delete(channel)
  }

  private beat(): void {
    for (const conn of [...this.conns]) {
      if (!conn.alive) {
        this.kill(conn, WS_CLOSE_HEARTBEAT_TIMEOUT, 'heartbeat timeout: no pong received')
        continue
      }
      conn.alive = false
      try {
        conn.socket.ping()
      } catch {
        this.drop(conn)
      }
    }
  }

  private async onMessage(conn: Connection, text: string): Promise<void> {
    let msg: any
    try {
      msg = JSON.parse(text)
    } catch {
      return this.reply(conn, this.error(RPCErrorCode.BAD_JSON, 'message is not valid JSON'))
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return this.reply(conn, this.error(RPCErrorCode.BAD_MESSAGE, 'message must be a JSON object'))
    }
    const id = typeof msg.id === 'string' || typeof msg.id === 'number' ? msg.id : undefined
    const withId = id !== undefined ? { id } : {}
    if (msg.op === 'ping') return this.reply(conn, { op: 'pong', ...withId })
    if (msg.op !== 'subscribe' && msg.op !== 'unsubscribe') {
      return this.reply(
        conn,
        this.error(RPCErrorCode.BAD_MESSAGE, 'op must be "subscribe", "unsubscribe" or "ping"', id),
      )
    }
    const channel = parseChannel(msg.channel)
    if (!channel) {
      return this.reply(
        conn,
        this.error(
          RPCErrorCode.BAD_CHANNEL,
          'channel must be "new_blocks", "tx_status:<0x tx hash>" or "contract_logs:<0x address>"',
          id,
        ),
      )
    }
    if (msg.op === 'unsubscribe') {
      this.unsub(conn, channel)
      if (channel === 'new_blocks') conn.backfill = undefined
      return this.reply(conn, { op: 'unsubscribed', channel, ...withId })
    }
    let fromHeight: number | undefined
    if (msg.fromHeight !== undefined) {
      if (channel !== 'new_blocks' || !Number.isSafeInteger(msg.fromHeight) || msg.fromHeight < 0) {
        return this.reply(
          conn,
          this.error(
            RPCErrorCode.BAD_MESSAGE,
            'fromHeight must be a non-negative integer, on new_blocks only',
            id,
          ),
        )
      }
      fromHeight = msg.fromHeight
    }
    if (!conn.subs.has(channel) && conn.subs.size >= this.opts.maxSubscriptions) {
      return this.reply(
        conn,
        this.error(
          RPCErrorCode.TOO_MANY_SUBSCRIPTIONS,
          `at most ${this.opts.maxSubscriptions} subscriptions per connection; unsubscribe first`,
          id,
        ),
      )
    }
    if (fromHeight !== undefined) {
      const head = Number((await this.opts.backend.getHead()).header.height)
      if (head - fromHeight + 1 > this.opts.maxBackfill) {
        return this.reply(
          conn,
          this.error(
            RPCErrorCode.BACKFILL_TOO_LARGE,
            `fromHeight ${fromHeight} is more than ${this.opts.maxBackfill} blocks behind head ${head}; use GET /block/{height} for older blocks`,
            id,
          ),
        )
      }
    }
    conn.subs.add(channel)
    let set = this.channels.get(channel)
    if (!set) this.channels.set(channel, (set = new Set()))
    set.add(conn)
    if (fromHeight !== undefined) conn.backfill = { queue: [] }
    this.reply(conn, { op: 'subscribed', channel, ...withId })
    if (fromHeight !== undefined) await this.runBackfill(conn, fromHeight)
    else if (channel.startsWith('tx_status:')) await this.sendTxStatusNow(conn, channel)
  }

  private async runBackfill(conn: Connection, fromHeight: number): Promise<void> {
    const state = conn.backfill!
    let h = fromHeight
    let last = fromHeight - 1
    try {
      for (;;) {
        const head = Number((await this.opts.backend.getHead()).header.height)
        if (h > head) break
        for (; h <= head; h++) {
          if (conn.closed || conn.backfill !== state) return
          const block = await this.opts.backend.getBlockByHeight(BigInt(h))
          if (!block) break
          this.send(conn, eventMessage('new_blocks', blockToJson(block)))
          last = h
        }
      }
    } finally {
      if (conn.backfill === state) {
        conn.backfill = undefined
        for (const q of state.queue) if (q.height > last) this.send(conn, q.msg)
      }
    }
  }

  private async sendTxStatusNow(conn: Connection, channel: string): Promise<void> {
    const hex = channel.slice('tx_status:'.length)
    const hash = new Uint8Array(Buffer.from(hex.slice(2), 'hex'))
    const found = await this.opts.backend.getTransaction(hash)
    let data: TxStatusEventJson
    if (!found) data = { hash: hex, status: 'unknown' }
    else if (!found.receipt) data = { hash: hex, status: 'pending' }
    else {
      data = {
        hash: hex,
        status: found.receipt.status === 'Success' ? 'included' : 'failed',
        blockHeight: Number(found.receipt.blockHeight),
        receipt: receiptToJson(found.receipt),
      }
    }
    if (conn.subs.has(channel)) this.send(conn, eventMessage(channel, data))
  }

  /** Sends `data` on `channel` to every subscriber (serialized once). */
  publish(channel: string, data: unknown, height?: number): void {
    const set = this.channels.get(channel)
    if (!set || set.size === 0) return
    const msg = eventMessage(channel, data)
    for (const conn of set) {
      if (height !== undefined && conn.backfill) conn.backfill.queue.push({ height, msg })
      else this.send(conn, msg)
    }
  }

  /** Fans a committed block out to `new_blocks`, `tx_status:*` and `contract_logs:*`. */
  onBlock(e: RPCNewBlockEvent): void {
    const height = Number(e.block.header.height)
    if (this.channels.has('new_blocks')) this.publish('new_blocks', blockToJson(e.block), height)
    if (this.channels.size === 0) return
    const blockHash = toHex(e.block.hash)
    for (const r of e.receipts) {
      const txHash = toHex(r.txHash)
      const txChannel = `tx_status:${txHash}`
      if (this.channels.has(txChannel)) {
        const data: TxStatusEventJson = {
          hash: txHash,
          status: r.status === 'Success' ? 'included' : 'failed',
          blockHeight: height,
          receipt: receiptToJson(r),
        }
        this.publish(txChannel, data)
      }
      r.logs.forEach((log, logIndex) => {
        const address = toHex(log.address)
        const ch = `contract_logs:${address}`
        if (!this.channels.has(ch)) return
        const data: ContractLogEventJson = {
          address,
          topics: log.topics.map(toHex),
          data: toHex(log.data),
          txHash,
          blockHeight: height,
          blockHash,
          txIndex: r.index,
          logIndex,
        }
        this.publish(ch, data)
      })
    }
  }

  /** Fans a pool status change out to `tx_status:<hash>`. */
  onTxStatus(e: RPCTxStatusEvent): void {
    const hash = toHex(e.hash)
    const data: TxStatusEventJson = { hash, status: e.status }
    if (e.reason) data.reason = e.reason
    this.publish(`tx_status:${hash}`, data)
  }

  /** Closes every connection (1001 going away) and stops listening to the backend. */
  async close(): Promise<void> {
    this.closing = true
    if (this.heartbeat) clearInterval(this.heartbeat)
    for (const u of this.unlisten.splice(0)) u()
    const sockets = [...this.conns].map((c) => c.socket)
    for (const conn of [...this.conns]) this.drop(conn)
    await Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.readyState === 3) return resolve()
            const t = setTimeout(() => {
              s.terminate()
              resolve()
            }, 500)
            s.once('close', () => {
              clearTimeout(t)
              resolve()
            })
            try {
              s.close(WS_CLOSE_GOING_AWAY, 'server shutting down')
            } catch {
              s.terminate()
              resolve()
            }
          }),
      ),
    )
  }
}

function eventMessage(channel: string, data: unknown): string {
  return `{"op":"event","channel":${JSON.stringify(channel)},"data":${JSON.stringify(data)}}`
}
