import type { Transaction } from '@aureon/ledger'
import { createClient, type RPCClient } from '../src/client.js'
import { encodeMockTransaction, MockRPCBackend, mockAddress } from '../src/mock.js'
import { type CreateRPCServerOptions, createRPCServer, type RPCServer } from '../src/server.js'

export const addr = (n: number) => new Uint8Array(20).fill(n)
export const hex = (b: Uint8Array) => '0x' + Buffer.from(b).toString('hex')

export interface Ctx {
  backend: MockRPCBackend
  server: RPCServer
  client: RPCClient
  url: string
}

export async function startMock(
  opts: Partial<CreateRPCServerOptions> = {},
  backend = new MockRPCBackend(),
): Promise<Ctx> {
  const server = await createRPCServer({ port: 0, rateLimit: false, ...opts, backend })
  const url = await server.listen()
  return { backend, server, client: createClient({ url }), url }
}

/** A mock-encoded transfer from the key `pk` (sender = mockAddress(pk)). */
export function mockTransfer(
  pk: number,
  nonce: bigint,
  to: Uint8Array,
  amount: bigint,
  chainId = 1n,
) {
  const tx = {
    kind: 0,
    chainId,
    nonce,
    gasPrice: 1n,
    gasLimit: 21_000n,
    to,
    amount,
    senderPublicKey: new Uint8Array(32).fill(pk),
    signature: new Uint8Array(64).fill(7),
  } as Transaction
  return { tx, bytes: encodeMockTransaction(tx), sender: mockAddress(tx.senderPublicKey) }
}
