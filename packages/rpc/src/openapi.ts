/** The OpenAPI 3.1 document of the API, generated from the route table. */
import { errorResponseSchema, pathParamNames, type RouteDef, routes } from './routes.js'

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request: the error code says what was wrong',
  404: 'Not found',
  413: 'Body too large',
  415: 'Unsupported media type (send application/json)',
  429: 'Rate limited (see Retry-After)',
  503: 'Unavailable or timed out',
}

function operation(id: string, def: RouteDef): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = []
  const props = (def.params?.properties ?? {}) as Record<string, Record<string, unknown>>
  for (const name of pathParamNames(def.url)) {
    parameters.push({ name, in: 'path', required: true, schema: props[name] ?? { type: 'string' } })
  }
  const q = (def.query?.properties ?? {}) as Record<string, Record<string, unknown>>
  for (const [name, schema] of Object.entries(q))
    parameters.push({ name, in: 'query', required: false, schema })
  const responses: Record<string, unknown> = {
    200: { description: 'OK', content: { 'application/json': { schema: def.response } } },
  }
  for (const s of [...def.errors, 429, ...(def.body ? [413, 415] : [])]) {
    responses[s] ??= {
      description: STATUS_TEXT[s] ?? 'Error',
      content: {
        'application/json': {
          schema: s === 503 && id === 'getHealth' ? def.response : errorResponseSchema,
        },
      },
    }
  }
  const op: Record<string, unknown> = {
    operationId: id,
    summary: def.summary,
    parameters,
    responses,
  }
  if (def.description) op.description = def.description
  if (def.body) {
    op.requestBody = { required: true, content: { 'application/json': { schema: def.body } } }
  }
  return op
}

/**
 * The OpenAPI document served at `GET /openapi.json`.
 * @example
 * const doc = openAPIDocument()
 * Object.keys(doc.paths) // ['/chain/head', '/block/{id}', ...]
 */
export function openAPIDocument(): {
  openapi: string
  info: Record<string, unknown>
  paths: Record<string, Record<string, unknown>>
} {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const [id, def] of Object.entries(routes)) {
    const path = def.url.replace(/:([A-Za-z_]+)/g, '{$1}')
    paths[path] ??= {}
    paths[path][def.method.toLowerCase()] = operation(id, def)
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Aureon node API',
      version: '1',
      description:
        'REST API of an Aureon node. Bigints are decimal strings, bytes 0x-hex, heights numbers. ' +
        'Errors are { error: { code, message, details? } } with a 4xx status. WebSocket at /ws ' +
        '(subscribe to new_blocks, tx_status:<hash>, contract_logs:<address>); see docs/api.md.',
    },
    paths,
  }
}
