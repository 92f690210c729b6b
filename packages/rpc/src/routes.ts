/**
 * The API, defined once: method, path, request and response JSON schemas of every route. The
 * Fastify server (`createRPCServer`), the typed client (`createClient`) and the OpenAPI document
 * (`openAPIDocument`) are all built from this table.
 */
import type {
  AccountJson,
  AccountProofJson,
  BlockJson,
  CallResultJson,
  ContractJson,
  DeployJson,
  EstimateJson,
  HeaderJson,
  HealthJson,
  PeersJson,
  SendTxJson,
  StorageJson,
  TxKindName,
  TxLookupJson,
  ValidatorsJson,
} from './types.js'

export type JSONSchema = Record<string, unknown>

// --- schema fragments -------------------------------------------------------------------------

export const hexSchema = { type: 'string', pattern: '^0x([0-9a-fA-F]{2})*$', maxLength: 2_000_000 }
export const addressSchema = { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' }
export const hashSchema = { type: 'string', pattern: '^0x[0-9a-fA-F]{64}$' }
/** u128 as a decimal string (range checked by the handler). */
export const decimalSchema = { type: 'string', pattern: '^(0|[1-9][0-9]{0,38})$' }
const strHex = { type: 'string' }
const strDec = { type: 'string' }
const int = { type: 'integer' }
const receiptStatus = { type: 'string', enum: ['Success', 'Failed', 'OutOfGas', 'Reverted'] }
const codeMessage = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'message'],
}

export const errorResponseSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
}

export const headerSchema = {
  type: 'object',
  properties: {
    hash: strHex,
    height: int,
    parentHash: strHex,
    timestamp: int,
    proposer: strHex,
    stateRoot: strHex,
    txRoot: strHex,
    receiptsRoot: strHex,
    gasUsed: strDec,
    gasLimit: strDec,
    chainId: strDec,
    consensus: strHex,
  },
  required: [
    'hash',
    'height',
    'parentHash',
    'timestamp',
    'proposer',
    'stateRoot',
    'txRoot',
    'receiptsRoot',
    'gasUsed',
    'gasLimit',
    'chainId',
    'consensus',
  ],
}

export const txSchema = {
  type: 'object',
  properties: {
    hash: strHex,
    from: strHex,
    kind: { type: 'string' },
    chainId: strDec,
    nonce: strDec,
    gasPrice: strDec,
    gasLimit: strDec,
    senderPublicKey: strHex,
    signature: strHex,
    to: strHex,
    amount: strDec,
    code: strHex,
    codeSize: int,
    args: strHex,
    value: strDec,
    contract: strHex,
    function: { type: 'string' },
    blsPublicKey: strHex,
    blsPop: strHex,
  },
  required: [
    'hash',
    'from',
    'kind',
    'chainId',
    'nonce',
    'gasPrice',
    'gasLimit',
    'senderPublicKey',
    'signature',
  ],
}

export const blockSchema = {
  type: 'object',
  properties: {
    ...headerSchema.properties,
    txCount: int,
    transactions: { type: 'array', items: { anyOf: [{ type: 'string' }, txSchema] } },
  },
  required: [...headerSchema.required, 'txCount', 'transactions'],
}

export const logSchema = {
  type: 'object',
  properties: { address: strHex, topics: { type: 'array', items: strHex }, data: strHex },
  required: ['address', 'topics', 'data'],
}

export const receiptSchema = {
  type: 'object',
  properties: {
    txHash: strHex,
    blockHeight: int,
    index: int,
    status: receiptStatus,
    gasUsed: strDec,
    gasPrice: strDec,
    fee: strDec,
    output: strHex,
    logs: { type: 'array', items: logSchema },
    debugLogs: { type: 'array', items: { type: 'string' } },
    error: codeMessage,
    contractAddress: strHex,
    balanceChanges: {
      type: 'array',
      items: {
        type: 'object',
        properties: { address: strHex, balance: strDec },
        required: ['address', 'balance'],
      },
    },
  },
  required: [
    'txHash',
    'blockHeight',
    'index',
    'status',
    'gasUsed',
    'gasPrice',
    'fee',
    'output',
    'logs',
    'debugLogs',
    'balanceChanges',
  ],
}

export const accountSchema = {
  type: 'object',
  properties: {
    address: strHex,
    balance: strDec,
    nonce: strDec,
    stake: strDec,
    isContract: { type: 'boolean' },
    codeHash: strHex,
    storageRoot: strHex,
    unbonding: {
      type: 'array',
      items: {
        type: 'object',
        properties: { amount: strDec, releaseHeight: int },
        required: ['amount', 'releaseHeight'],
      },
    },
  },
  required: ['address', 'balance', 'nonce', 'stake', 'isContract'],
}

const callResultSchema = {
  type: 'object',
  properties: {
    status: receiptStatus,
    gasUsed: strDec,
    output: strHex,
    logs: { type: 'array', items: logSchema },
    debugLogs: { type: 'array', items: { type: 'string' } },
    error: codeMessage,
  },
  required: ['status', 'gasUsed', 'output', 'logs'],
}

const addressParams = {
  type: 'object',
  properties: { address: addressSchema },
  required: ['address'],
}
const signedTxBody = {
  type: 'object',
  properties: { tx: { ...hexSchema, description: 'signed transaction bytes (RLP), 0x-hex' } },
  required: ['tx'],
  additionalProperties: false,
}
const sendResult = {
  type: 'object',
  properties: {
    hash: strHex,
    status: { type: 'string', enum: ['pending', 'queued', 'replaced'] },
    contractAddress: strHex,
  },
  required: ['hash', 'status'],
}

// --- the table --------------------------------------------------------------------------------

export type HttpMethod = 'GET' | 'POST'

/** One route: everything the server, the client and the OpenAPI document need. */
export interface RouteDef {
  method: HttpMethod
  /** Fastify path, parameters as `:name`. */
  url: string
  summary: string
  description?: string
  params?: JSONSchema
  query?: JSONSchema
  body?: JSONSchema
  response: JSONSchema
  /** Error statuses the route may answer with (besides 429/413/415). */
  errors: number[]
  /** An example request, shown in docs. */
  example?: Record<string, unknown>
}

export type TxKindArg = TxKindName | 0 | 1 | 2 | 3 | 4

/** The arguments (path, query and body fields merged) and the response of each route. */
export interface Endpoints {
  getHead: { args: Record<string, never> | undefined; response: HeaderJson }
  getBlock: { args: { id: string | number; txs?: 'full' | 'hashes' }; response: BlockJson }
  getTx: { args: { hash: string }; response: TxLookupJson }
  sendTx: { args: { tx: string }; response: SendTxJson }
  estimateTx: {
    args: {
      from: string
      kind: TxKindArg
      to?: string
      amount?: string
      code?: string
      args?: string
      value?: string
      contract?: string
      function?: string
      gasPrice?: string
      nonce?: string
    }
    response: EstimateJson
  }
  getAccount: { args: { address: string }; response: AccountJson }
  getAccountProof: { args: { address: string }; response: AccountProofJson }
  deployContract: { args: { tx: string }; response: DeployJson }
  callContract: {
    args: {
      contract: string
      function: string
      args?: string
      value?: string
      from?: string
      gasLimit?: string
    }
    response: CallResultJson
  }
  getContract: { args: { address: string }; response: ContractJson }
  getContractStorage: { args: { address: string; key: string }; response: StorageJson }
  getValidators: { args: Record<string, never> | undefined; response: ValidatorsJson }
  getPeers: { args: Record<string, never> | undefined; response: PeersJson }
  getHealth: { args: Record<string, never> | undefined; response: HealthJson }
}

export type RouteId = keyof Endpoints

/** Every route of the API, by id. */
export const routes: { [K in RouteId]: RouteDef } = {
  getHead: {
    method: 'GET',
    url: '/chain/head',
    summary: 'The head block header',
    response: headerSchema,
    errors: [],
  },
  getBlock: {
    method: 'GET',
    url: '/block/:id',
    summary: 'A block by height (decimal) or hash (0x + 64 hex)',
    params: {
      type: 'object',
      properties: {
        id: {
          type: 'string',
          pattern: '^((0|[1-9][0-9]{0,19})|0x[0-9a-fA-F]{64})$',
          description: 'height or block hash',
        },
      },
      required: ['id'],
    },
    query: {
      type: 'object',
      properties: { txs: { type: 'string', enum: ['full', 'hashes'] } },
    },
    response: blockSchema,
    errors: [400, 404],
    example: { id: 1, txs: 'full' },
  },
  getTx: {
    method: 'GET',
    url: '/tx/:hash',
    summary: 'A transaction: pending (in the pool), included or failed, with its receipt',
    params: { type: 'object', properties: { hash: hashSchema }, required: ['hash'] },
    response: {
      type: 'object',
      properties: {
        hash: strHex,
        status: { type: 'string', enum: ['pending', 'included', 'failed'] },
        tx: txSchema,
        blockHeight: int,
        blockHash: strHex,
        index: int,
        receipt: receiptSchema,
      },
      required: ['hash', 'status', 'tx'],
    },
    errors: [400, 404],
  },
  sendTx: {
    method: 'POST',
    url: '/tx/send',
    summary: "Submits a signed transaction; returns its hash or the pool's coded refusal",
    body: signedTxBody,
    response: sendResult,
    errors: [400],
  },
  estimateTx: {
    method: 'POST',
    url: '/tx/estimate',
    summary: 'Gas an unsigned transaction would use at head (intrinsic gas included)',
    body: {
      type: 'object',
      properties: {
        from: addressSchema,
        kind: {
          anyOf: [
            {
              type: 'string',
              enum: ['transfer', 'contract_deploy', 'contract_call', 'stake', 'unstake'],
            },
            { type: 'integer', minimum: 0, maximum: 4 },
          ],
        },
        to: addressSchema,
        amount: decimalSchema,
        code: hexSchema,
        args: hexSchema,
        value: decimalSchema,
        contract: addressSchema,
        function: { type: 'string', maxLength: 128 },
        gasPrice: decimalSchema,
        nonce: decimalSchema,
      },
      required: ['from', 'kind'],
      additionalProperties: false,
    },
    response: {
      type: 'object',
      properties: { gas: strDec, status: receiptStatus, error: codeMessage },
      required: ['gas', 'status'],
    },
    errors: [400],
  },
  getAccount: {
    method: 'GET',
    url: '/account/:address',
    summary: 'Balance, nonce, stake and whether the account is a contract (at head)',
    params: addressParams,
    response: accountSchema,
    errors: [400],
  },
  getAccountProof: {
    method: 'GET',
    url: '/account/:address/proof',
    summary: 'The account with a Merkle proof against the head state root',
    params: addressParams,
    response: {
      type: 'object',
      properties: {
        address: strHex,
        stateRoot: strHex,
        height: int,
        exists: { type: 'boolean' },
        account: accountSchema,
        proof: { type: 'array', items: strHex },
      },
      required: ['address', 'stateRoot', 'height', 'exists', 'account', 'proof'],
    },
    errors: [400],
  },
  deployContract: {
    method: 'POST',
    url: '/contract/deploy',
    summary: 'Submits a signed ContractDeploy; returns the tx hash and the contract address',
    body: signedTxBody,
    response: { ...sendResult, required: ['hash', 'status', 'contractAddress'] },
    errors: [400],
  },
  callContract: {
    method: 'POST',
    url: '/contract/call',
    summary: 'Read-only simulation of a contract call at head; no state changes',
    body: {
      type: 'object',
      properties: {
        contract: addressSchema,
        function: { type: 'string', minLength: 1, maxLength: 128 },
        args: hexSchema,
        value: decimalSchema,
        from: addressSchema,
        gasLimit: decimalSchema,
      },
      required: ['contract', 'function'],
      additionalProperties: false,
    },
    response: callResultSchema,
    errors: [400, 404],
  },
  getContract: {
    method: 'GET',
    url: '/contract/:address',
    summary: 'Code hash, size, exported functions, deployer and deploy height of a contract',
    params: addressParams,
    response: {
      type: 'object',
      properties: {
        address: strHex,
        codeHash: strHex,
        codeSize: int,
        exports: { type: 'array', items: { type: 'string' } },
        balance: strDec,
        deployer: strHex,
        deployHeight: int,
        deployTx: strHex,
      },
      required: ['address', 'codeHash', 'codeSize', 'exports', 'balance'],
    },
    errors: [400, 404],
  },
  getContractStorage: {
    method: 'GET',
    url: '/contract/:address/storage/:key',
    summary: 'One storage value of a contract (null if the key is absent)',
    params: {
      type: 'object',
      properties: {
        address: addressSchema,
        key: { type: 'string', pattern: '^0x([0-9a-fA-F]{2}){0,128}$' },
      },
      required: ['address', 'key'],
    },
    response: {
      type: 'object',
      properties: {
        address: strHex,
        key: strHex,
        value: { type: ['string', 'null'] },
      },
      required: ['address', 'key', 'value'],
    },
    errors: [400, 404],
  },
  getValidators: {
    method: 'GET',
    url: '/validators',
    summary: 'The active validator set',
    response: {
      type: 'object',
      properties: {
        epoch: int,
        totalStake: strDec,
        validators: {
          type: 'array',
          items: {
            type: 'object',
            properties: { address: strHex, publicKey: strHex, blsPublicKey: strHex, stake: strDec },
            required: ['address', 'publicKey', 'blsPublicKey', 'stake'],
          },
        },
      },
      required: ['epoch', 'totalStake', 'validators'],
    },
    errors: [],
  },
  getPeers: {
    method: 'GET',
    url: '/peers',
    summary: 'Connected peers',
    response: {
      type: 'object',
      properties: {
        count: int,
        peers: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              addresses: { type: 'array', items: { type: 'string' } },
              direction: { type: 'string' },
              latencyMs: { type: 'number' },
            },
            required: ['id', 'addresses'],
          },
        },
      },
      required: ['count', 'peers'],
    },
    errors: [],
  },
  getHealth: {
    method: 'GET',
    url: '/health',
    summary: 'Liveness and sync state (503 when the node cannot serve)',
    response: {
      type: 'object',
      properties: {
        ok: { type: 'boolean' },
        syncing: { type: 'boolean' },
        peers: int,
        height: int,
        chainId: strDec,
        uptimeSeconds: { type: 'number' },
        version: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
      required: ['ok', 'syncing', 'peers', 'height', 'chainId', 'uptimeSeconds', 'version'],
    },
    errors: [503],
  },
}

/** Names of a route's path parameters, in order. */
export function pathParamNames(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1])
}

/** Names of a route's query parameters. */
export function queryParamNames(def: RouteDef): string[] {
  return Object.keys((def.query?.properties as Record<string, unknown> | undefined) ?? {})
}
