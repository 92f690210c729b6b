import { createHash } from 'node:crypto'
import { ConsensusMessageType } from '@aureon/consensus'
import { createP2PNode } from '@aureon/p2p'

const genesisHash = createHash('sha256').update('my genesis').digest()
// validateEncodings: false lets this demo gossip raw bytes instead of ledger transactions
const options = {
  chainId: 1n,
  genesisHash,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  validateEncodings: false,
}

// two nodes on one machine; b knows a as a bootstrap peer
const a = await createP2PNode(options)
const b = await createP2PNode({ ...options, bootstrap: [a.addresses()[0]] })
try {
  await b.waitForPeers(1, { topic: 'transactions' })
  await a.waitForPeers(1, { topic: 'transactions' })

  // gossip: b receives what a publishes on the chain's transactions topic
  const received = new Promise<Uint8Array>((resolve) => b.subscribe('transactions', resolve))
  await a.publish('transactions', new Uint8Array([1, 2, 3]))
  console.log('gossiped tx:', await received)

  // the consensus Transport: typed messages and block sync
  b.onMessage((from, msg) => console.log('consensus message type', msg.type, 'from', from))
  a.onBlockRequest(async (_from, req) => ({ blocks: [new Uint8Array([Number(req.fromHeight)])] }))
  b.sendTo(a.peerId, { type: ConsensusMessageType.Block, block: new Uint8Array([7]) })
  const { blocks } = await b.requestBlocks(a.peerId, { fromHeight: 5n, count: 1 })
  console.log('blocks from a:', blocks)

  console.log(
    'a sees peers:',
    a.listPeers().map((p) => ({ id: p.id, head: p.status?.headHeight })),
  )
} finally {
  await b.stop()
  await a.stop()
}
