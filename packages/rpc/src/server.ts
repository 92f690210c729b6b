/**
 * The API server: Fastify routes built from the route table, bounded (body limit, per-IP rate
 * limit, handler and request timeouts, CORS), WebSocket at `/ws`, OpenAPI at `/openapi.json`
 * and the explorer page at `/`. Binds 127.0.0.1 unless told otherwise.
 */
import { createRequire } from 'node:module'
import cors from '@fastify/cors'
import websocket from '@fastify/websocket'
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import { RPCError, RPCErrorCode } from './errors.js'
import { explorerHTML } from './explorer.js'
import {
  accountToJson,
  blockToJson,
  callResultToJson,
  heightToNumber,
  parseAddressParam,
  parseAmount,
  parseHashParam,
  parseHeight,
  parseHex,
  receiptToJson,
  toHex,
  txKindFromName,
  txToJson,
  validatorsToJson,
} from './json.js'
import { openAPIDocument } from './openapi.js'
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_HANDLER_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_RATE_LIMIT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_WS_HEARTBEAT_MS,
  DEFAULT_WS_MAX_BACKFILL,
  DEFAULT_WS_MAX_BUFFERED_BYTES,
  DEFAULT_WS_MAX_CONNECTIONS,
  DEFAULT_WS_MAX_SUBSCRIPTIONS,
  MAX_U64,
  WS_MAX_PAYLOAD,
} from './params.js'
import { RateLimiter } from './rate-limit.js'
import { type Endpoints, type RouteId, routes } from './routes.js'
import type { RPCBackend, RPCServerOptions, TxLookupJson } from './types.js'
import { WsHub } from './ws.js'

/** Version reported by `/health`. */
export const RPC_VERSION: string = (() => {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version
  } catch {
    return '0.0.0'
  }
})()

/** Defaults of every server option but `backend`. */
export const defaultRPCServerOptions: Omit<RPCServerOptions, 'backend'> = {
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  bodyLimit: DEFAULT_BODY_LIMIT,
  handlerTimeoutMs: DEFAULT_HANDLER_TIMEOUT_MS,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  rateLimit: { ...DEFAULT_RATE_LIMIT },
  cors: '*',
  explorer: true,
  trustProxy: false,
  ws: {
    maxConnections: DEFAULT_WS_MAX_CONNECTIONS,
    maxSubscriptions: DEFAULT_WS_MAX_SUBSCRIPTIONS,
    maxBufferedBytes: DEFAULT_WS_MAX_BUFFERED_BYTES,
    heartbeatMs: DEFAULT_WS_HEARTBEAT_MS,
    maxBackfill: DEFAULT_WS_MAX_BACKFILL,
  },
  logger: null,
  metrics: null,
}

/** Options of `createRPCServer`: a backend, anything else defaults. */
export type CreateRPCServerOptions = Partial<Omit<RPCServerOptions, 'ws'>> & {
  backend: RPCBackend
  ws?: Partial<RPCServerOptions['ws']>
}

export interface RPCServer {
  readonly app: FastifyInstance
  readonly hub: WsHub
  readonly options: RPCServerOptions
  /** Starts listening; resolves to the base URL (e.g. `http://127.0.0.1:8545`). */
  listen(): Promise<string>
  /** The base URL once listening. */
  readonly url: string
  /** Closes WebSockets and the HTTP server (bounded: open connections are cut). */
  close(): Promise<void>
}

type Handler<K extends RouteId> = (args: any) => Promise<Endpoints[K]['response']>

/** Built-in error names: an error of these is a bug, even if it carries a Node `ERR_` code. */
const BUILTIN_ERROR_NAMES = new Set([
  'TypeError',
  'RangeError',
  'SyntaxError',
  'ReferenceError',
  'AbortError',
  'SystemError',
])
/** Node's own error code families (never a refusal of user input). */
const NODE_CODE_PREFIXES = [
  'ERR_INVALID_ARG',
  'ERR_OUT_OF_RANGE',
  'ERR_STREAM',
  'ERR_SOCKET',
  'ERR_HTTP',
  'ERR_STORE',
]

/**
 * True if a backend error is a refusal the user caused: an `ERR_*` code from a package error
 * class (LedgerError, RPCError, ...), not an internal failure or a built-in / Node error.
 */
function isUserErrorCode(err: { name?: unknown }, code: string): boolean {
  if (!code.startsWith('ERR_') || INTERNAL_CODES.has(code)) return false
  if (typeof err.name === 'string' && BUILTIN_ERROR_NAMES.has(err.name)) return false
  return !NODE_CODE_PREFIXES.some((p) => code.startsWith(p))
}

/** Internal error codes a backend may throw that are not the user's fault. */
const INTERNAL_CODES = new Set([
  'ERR_STORE',
  'ERR_INTERNAL',
  'ERR_CHECKPOINT',
  'ERR_EXECUTOR_FAILED',
])

function notFound(what: string): RPCError {
  return new RPCError(RPCErrorCode.NOT_FOUND, `${what} not found`, { status: 404 })
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  if (!(ms > 0)) return p
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(
      () =>
        reject(
          new RPCError(RPCErrorCode.TIMEOUT, `the node did not answer within ${ms} ms; try again`, {
            status: 503,
          }),
        ),
      ms,
    )
    p.then(
      (v) => {
        clearTimeout(t)
        resolve(v)
      },
      (e) => {
        clearTimeout(t)
        reject(e)
      },
    )
  })
}

function lookupToJson(
  hash: Uint8Array,
  found: NonNullable<Awaited<ReturnType<RPCBackend['getTransaction']>>>,
): TxLookupJson {
  const out: TxLookupJson = {
    hash: toHex(hash),
    status: !found.receipt ? 'pending' : found.receipt.status === 'Success' ? 'included' : 'failed',
    tx: txToJson(found.tx),
  }
  if (found.location) {
    out.blockHeight = heightToNumber(found.location.blockHeight)
    out.blockHash = toHex(found.location.blockHash)
    out.index = found.location.index
  } else if (found.receipt) {
    out.blockHeight = heightToNumber(found.receipt.blockHeight)
    out.index = found.receipt.index
  }
  if (found.receipt) out.receipt = receiptToJson(found.receipt)
  return out
}

/** The handler of every route, over a backend. */
export function createHandlers(
  backend: RPCBackend,
  startedAt = Date.now(),
): { [K in RouteId]: Handler<K> } {
  return {
    async getHead() {
      const { header, hash } = await backend.getHead()
      return { ...blockToJsonHeader(header, hash) }
    },
    async getBlock(a: { id: string; txs?: string }) {
      const id = String(a.id)
      const block = id.startsWith('0x')
        ? await backend.getBlockByHash(parseHashParam(id, 'id'))
        : await backend.getBlockByHeight(parseHeight(id, 'id'))
      if (!block) throw notFound(`block ${id}`)
      return blockToJson(block, a.txs === 'full')
    },
    async getTx(a: { hash: string }) {
      const hash = parseHashParam(a.hash)
      const found = await backend.getTransaction(hash)
      if (!found) throw notFound(`transaction ${a.hash}`)
      return lookupToJson(hash, found)
    },
    async sendTx(a: { tx: string }) {
      const tx = backend.decodeTransaction(parseHex(a.tx, 'tx'))
      const r = await backend.submitTransaction(tx)
      return { hash: toHex(r.hash), status: r.status }
    },
    async estimateTx(a: Record<string, any>) {
      const kind = txKindFromName(a.kind)
      if (kind === undefined) {
        throw new RPCError(
          RPCErrorCode.BAD_REQUEST,
          'kind must be one of transfer, contract_deploy, contract_call, stake, unstake',
        )
      }
      const r = await backend.estimateGas({
        from: parseAddressParam(a.from, 'from'),
        kind,
        to: a.to !== undefined ? parseAddressParam(a.to, 'to') : undefined,
        amount: a.amount !== undefined ? parseAmount(a.amount, 'amount') : undefined,
        code: a.code !== undefined ? parseHex(a.code, 'code') : undefined,
        args: a.args !== undefined ? parseHex(a.args, 'args') : undefined,
        value: a.value !== undefined ? parseAmount(a.value, 'value') : undefined,
        contract: a.contract !== undefined ? parseAddressParam(a.contract, 'contract') : undefined,
        function: a.function,
        gasPrice: a.gasPrice !== undefined ? parseAmount(a.gasPrice, 'gasPrice') : undefined,
        nonce: a.nonce !== undefined ? parseAmount(a.nonce, 'nonce', MAX_U64) : undefined,
      })
      const out: Endpoints['estimateTx']['response'] = { gas: r.gas.toString(), status: r.status }
      if (r.error) out.error = { code: r.error.code, message: r.error.message }
      return out
    },
    async getAccount(a: { address: string }) {
      const address = parseAddressParam(a.address)
      const { account, isContract } = await backend.getAccount(address)
      return accountToJson(address, account, isContract)
    },
    async getAccountProof(a: { address: string }) {
      const address = parseAddressParam(a.address)
      const p = await backend.getAccountProof(address)
      return {
        address: toHex(address),
        stateRoot: toHex(p.stateRoot),
        height: heightToNumber(p.height),
        exists: p.exists,
        account: accountToJson(address, p.account, false),
        proof: p.proof.map(toHex),
      }
    },
    async deployContract(a: { tx: string }) {
      const tx = backend.decodeTransaction(parseHex(a.tx, 'tx'))
      if (tx.tx.kind !== 1) {
        throw new RPCError(
          RPCErrorCode.WRONG_TX_KIND,
          'POST /contract/deploy takes a ContractDeploy transaction (kind 1); send other kinds to POST /tx/send',
          {
            details: { kind: tx.tx.kind },
          },
        )
      }
      const r = await backend.submitTransaction(tx)
      return {
        hash: toHex(r.hash),
        status: r.status,
        contractAddress: toHex(backend.contractAddress(tx.sender, tx.tx.nonce)),
      }
    },
    async callContract(a: Record<string, any>) {
      const contract = parseAddressParam(a.contract, 'contract')
      const info = await backend.getContract(contract)
      if (!info) throw notFound(`contract ${a.contract}`)
      const r = await backend.callContract({
        contract,
        function: String(a.function),
        args: a.args !== undefined ? parseHex(a.args, 'args') : new Uint8Array(),
        value: a.value !== undefined ? parseAmount(a.value, 'value') : 0n,
        from: a.from !== undefined ? parseAddressParam(a.from, 'from') : undefined,
        gasLimit:
          a.gasLimit !== undefined ? parseAmount(a.gasLimit, 'gasLimit', MAX_U64) : undefined,
      })
      return callResultToJson(r)
    },
    async getContract(a: { address: string }) {
      const address = parseAddressParam(a.address)
      const info = await backend.getContract(address)
      if (!info) throw notFound(`contract ${a.address}`)
      const out: Endpoints['getContract']['response'] = {
        address: toHex(address),
        codeHash: toHex(info.codeHash),
        codeSize: info.codeSize,
        exports: [...info.exports],
        balance: info.balance.toString(),
      }
      if (info.deployer) out.deployer = toHex(info.deployer)
      if (info.deployHeight !== undefined) out.deployHeight = heightToNumber(info.deployHeight)
      if (info.deployTx) out.deployTx = toHex(info.deployTx)
      return out
    },
    async getContractStorage(a: { address: string; key: string }) {
      const address = parseAddressParam(a.address)
      const key = parseHex(a.key, 'key')
      if (key.length > 128)
        throw new RPCError(RPCErrorCode.BAD_HEX, 'key must be at most 128 bytes')
      const info = await backend.getContract(address)
      if (!info) throw notFound(`contract ${a.address}`)
      const v = await backend.getContractStorage(address, key)
      return { address: toHex(address), key: toHex(key), value: v === undefined ? null : toHex(v) }
    },
    async getValidators() {
      return validatorsToJson(await backend.getValidators())
    },
    async getPeers() {
      const peers = await backend.getPeers()
      return { count: peers.length, peers }
    },
    async getHealth() {
      const [h, head] = await Promise.all([backend.getHealth(), backend.getHead()])
      const out: Endpoints['getHealth']['response'] = {
        ok: h.ok,
        syncing: h.syncing,
        peers: h.peers,
        height: heightToNumber(head.header.height),
        chainId: backend.chainId.toString(),
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        version: RPC_VERSION,
      }
      if (h.details) out.details = h.details
      return out
    },
  }
}

function blockToJsonHeader(header: Parameters<typeof blockToJson>[0]['header'], hash: Uint8Array) {
  const { txCount: _c, transactions: _t, ...rest } = blockToJson({ header, hash, transactions: [] })
  return rest
}

/** Maps any error to a status and the `{ error }` body. User input never gives a 5xx. */
export function errorReply(e: unknown): {
  status: number
  body: { error: { code: string; message: string; details?: Record<string, unknown> } }
} {
  if (e instanceof RPCError) {
    return {
      status: e.status,
      body: {
        error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) },
      },
    }
  }
  const err = e as FastifyError & { details?: Record<string, unknown> }
  if (err && typeof err === 'object') {
    if (err.validation) {
      const where = err.validationContext ?? 'request'
      return {
        status: 400,
        body: {
          error: { code: RPCErrorCode.BAD_REQUEST, message: `invalid ${where}: ${err.message}` },
        },
      }
    }
    const code = typeof err.code === 'string' ? err.code : ''
    const sc = typeof err.statusCode === 'number' ? err.statusCode : 0
    if (code.startsWith('FST_') && sc >= 400 && sc < 500) {
      const mapped =
        sc === 413
          ? RPCErrorCode.BODY_TOO_LARGE
          : sc === 415
            ? RPCErrorCode.UNSUPPORTED_MEDIA_TYPE
            : code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
                err.name === 'SyntaxError' ||
                code.includes('JSON')
              ? RPCErrorCode.BAD_JSON
              : RPCErrorCode.BAD_REQUEST
      return { status: sc, body: { error: { code: mapped, message: err.message } } }
    }
    if (sc >= 400 && sc < 500 && (err.name === 'SyntaxError' || code === '')) {
      return {
        status: sc,
        body: {
          error: {
            code: sc === 413 ? RPCErrorCode.BODY_TOO_LARGE : RPCErrorCode.BAD_REQUEST,
            message: err.message,
          },
        },
      }
    }
    if (isUserErrorCode(err, code)) {
      return {
        status: 400,
        body: {
          error: {
            code,
            message: err.message,
            ...(err.details && typeof err.details === 'object' ? { details: err.details } : {}),
          },
        },
      }
    }
  }
  return {
    status: 500,
    body: { error: { code: RPCErrorCode.INTERNAL, message: 'internal error; see the node log' } },
  }
}

/**
 * Builds the API server over a backend (not listening yet: call `listen()`).
 * @example
 * const server = await createRPCServer({ backend, port: 0 })
 * const url = await server.listen()
 * // ... later
 * await server.close()
 */
export async function createRPCServer(opts: CreateRPCServerOptions): Promise<RPCServer> {
  const options: RPCServerOptions = {
    ...defaultRPCServerOptions,
    ...opts,
    ws: { ...defaultRPCServerOptions.ws, ...(opts.ws ?? {}) },
  } as RPCServerOptions
  const { backend, logger, metrics } = options
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit,
    requestTimeout: options.requestTimeoutMs,
    connectionTimeout: options.requestTimeoutMs,
    keepAliveTimeout: 5_000,
    routerOptions: { maxParamLength: 400 },
    trustProxy: options.trustProxy,
    forceCloseConnections: true,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    frameworkErrors: (err, _req, reply) => {
      const { status, body } = errorReply(Object.assign(err, { statusCode: 400 }))
      void (reply as FastifyReply).code(status).send(body)
    },
  })
  const hub = new WsHub({ ...options.ws, backend, logger, metrics })
  const handlers = createHandlers(backend)
  const limiter = options.rateLimit
    ? new RateLimiter(options.rateLimit.perSecond, options.rateLimit.burst)
    : undefined

  if (options.cors !== false) {
    await app.register(cors, {
      origin: options.cors === '*' ? '*' : options.cors,
      methods: ['GET', 'POST'],
    })
  }
  await app.register(websocket, { options: { maxPayload: WS_MAX_PAYLOAD } })

  if (limiter) {
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const wait = limiter.take(req.ip)
      if (wait > 0) {
        reply.header('retry-after', String(wait))
        return reply.code(429).send({
          error: {
            code: RPCErrorCode.RATE_LIMITED,
            message: `too many requests from ${req.ip}; retry after ${wait} s`,
          },
        })
      }
    })
  }
  if (metrics) {
    app.addHook('onResponse', async (req, reply) => {
      const id = (req.routeOptions.config as { routeId?: string } | undefined)?.routeId ?? 'unknown'
      metrics.request(id, reply.statusCode, reply.elapsedTime / 1000)
    })
  }

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = errorReply(err)
    if (status >= 500) logger?.error({ err, url: req.url }, 'rpc: request failed')
    return reply.code(status).send(body)
  })
  app.setNotFoundHandler((req, reply) => {
    return reply.code(404).send({
      error: {
        code: RPCErrorCode.NOT_FOUND,
        message: `no route ${req.method} ${req.url.split('?')[0].slice(0, 200)}; GET /openapi.json lists the routes`,
      },
    })
  })

  for (const [id, def] of Object.entries(routes) as [RouteId, (typeof routes)[RouteId]][]) {
    const handler = handlers[id] as Handler<RouteId>
    const schema: Record<string, unknown> = { response: { 200: def.response } }
    if (id === 'getHealth') (schema.response as Record<number, unknown>)[503] = def.response
    if (def.params) schema.params = def.params
    if (def.query) schema.querystring = def.query
    if (def.body) schema.body = def.body
    app.route({
      method: def.method,
      url: def.url,
      schema,
      config: { routeId: id },
      handler: async (req, reply) => {
        const args = {
          ...((req.query as object) ?? {}),
          ...((req.body as object) ?? {}),
          ...((req.params as object) ?? {}),
        }
        const res = await withTimeout(handler(args), options.handlerTimeoutMs)
        if (id === 'getHealth' && !(res as { ok: boolean }).ok) reply.code(503)
        return res
      },
    })
  }

  const openapi = JSON.stringify(openAPIDocument())
  app.get('/openapi.json', async (_req, reply) => reply.type('application/json').send(openapi))
  if (options.explorer) {
    const html = explorerHTML()
    app.get('/', async (_req, reply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html),
    )
  }
  app.route({
    method: 'GET',
    url: '/ws',
    handler: async (_req, reply) =>
      reply.code(426).send({
        error: { code: RPCErrorCode.BAD_REQUEST, message: 'GET /ws needs a WebSocket upgrade' },
      }),
    wsHandler: (socket) => hub.handle(socket),
  })

  let url = ''
  return {
    app,
    hub,
    options,
    get url() {
      return url
    },
    async listen() {
      const addr = await app.listen({ host: options.host, port: options.port })
      const a = app.server.address()
      url =
        typeof a === 'object' && a
          ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
          : addr
      logger?.info({ url }, 'rpc: listening')
      return url
    },
    async close() {
      await hub.close()
      await app.close()
    },
  }
}
