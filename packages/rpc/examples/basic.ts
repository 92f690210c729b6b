import { createClient, createRPCServer, MockRPCBackend } from '@aureon/rpc'

// A node passes its own RPCBackend (ledger + runtime + consensus + p2p); the mock is in memory.
const backend = new MockRPCBackend({ chainId: 1n })
const server = await createRPCServer({ backend, host: '127.0.0.1', port: 0 })
const url = await server.listen()

const client = createClient({ url })
const heights: number[] = []
const sub = client.subscribe<{ height: number }>('new_blocks', (block) =>
  heights.push(block.height),
)
await sub.ready

await backend.mine() // a new block: subscribers get it over /ws
const head = await client.getHead()
const block = await client.getBlock({ id: head.height, txs: 'full' })
console.log(`head #${head.height} ${head.hash} with ${block.txCount} txs`)

try {
  await client.getBlock({ id: 999 })
} catch (e) {
  console.log('error code:', (e as { code: string }).code) // ERR_NOT_FOUND
}

while (heights.length === 0) await new Promise((r) => setTimeout(r, 10))
console.log('live blocks:', heights) // [ 1 ]
sub.close()
await server.close()
