import { createClient } from '@aureon/rpc'

export async function peersHandler(opts: { rpc: string }): Promise<void> {
  const client = createClient({ url: opts.rpc })
  const peers = await client.getPeers()
  process.stdout.write(`${JSON.stringify(peers, null, 2)}\n`)
}
