/**
 * Transport conformance: what @aureon/consensus's `Transport` promises (types.ts) and its
 * `SimNetwork` does, checked on real libp2p nodes.
 */
import {
  type BlockSyncRequest,
  type ConsensusMessage,
  ConsensusMessageType,
  type Transport,
} from '@aureon/consensus'
import { afterEach, describe, expect, it } from 'vitest'
import { P2PErrorCode, type P2PNode } from '../src/index.js'
import { eventually, nodeFactory } from './helpers.js'

const f = nodeFactory()
afterEach(() => f.stopAll())

const vote: ConsensusMessage = {
  type: ConsensusMessageType.Vote,
  epoch: 1n,
  round: 7n,
  height: 3n,
  blockHash: new Uint8Array(32).fill(0xab),
  voter: 2,
  signature: new Uint8Array(96).fill(1),
}
const block = (n: number): ConsensusMessage => ({
  type: ConsensusMessageType.Block,
  block: Uint8Array.of(n, n, n),
})

async function mesh(n: number): Promise<P2PNode[]> {
  const nodes: P2PNode[] = []
  for (let i = 0; i < n; i++) nodes.push(await f.make())
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) await nodes[i].dial(nodes[j].addresses()[0])
  for (const x of nodes) await x.waitForPeers(n - 1)
  return nodes
}

function inbox(t: Transport): [string, ConsensusMessage][] {
  const got: [string, ConsensusMessage][] = []
  t.onMessage((from, m) => got.push([from, m]))
  return got
}

describe('[Transport]: conformance on libp2p', () => {
  it('knows its id and its peers (not itself)', async () => {
    const [a, b, c] = await mesh(3)
    expect(a.peerId).toMatch(/^12D3KooW/)
    expect(a.peers()).toEqual([b.peerId, c.peerId].sort())
    expect(a.peers()).not.toContain(a.peerId)
  })

  it('broadcast reaches every peer once, never self, decoded to equal messages', async () => {
    const [a, b, c] = await mesh(3)
    const [ia, ib, ic] = [inbox(a), inbox(b), inbox(c)]
    // right after the handshake, before gossip subscriptions settle, too
    a.broadcast(vote)
    await eventually(() => ib.length >= 1 && ic.length >= 1)
    expect(ib[0]).toEqual([a.peerId, vote])
    expect(ic[0]).toEqual([a.peerId, vote])
    await b.waitForPeers(2, { topic: 'consensus' })
    await a.waitForPeers(2, { topic: 'consensus' })
    b.broadcast(block(5))
    await eventually(() => ia.some(([, m]) => m.type === ConsensusMessageType.Block))
    await eventually(() => ic.some(([, m]) => m.type === ConsensusMessageType.Block))
    expect(ia.find(([, m]) => m.type === ConsensusMessageType.Block)).toEqual([b.peerId, block(5)])
    await new Promise((r) => setTimeout(r, 150))
    expect(ia.filter(([, m]) => m.type === ConsensusMessageType.Vote)).toEqual([])
    expect(ib.filter(([, m]) => m.type === ConsensusMessageType.Block)).toEqual([])
  })

  it('sendTo reaches only that peer; unknown peers and self are dropped silently', async () => {
    const [a, b, c] = await mesh(3)
    const [ib, ic] = [inbox(b), inbox(c)]
    a.sendTo(b.peerId, vote)
    a.sendTo('12D3KooWNotAPeer', vote)
    a.sendTo(a.peerId, vote)
    await eventually(() => ib.length === 1)
    await new Promise((r) => setTimeout(r, 100))
    expect(ib).toEqual([[a.peerId, vote]])
    expect(ic).toEqual([])
  })

  it('onMessage returns an unsubscribe function', async () => {
    const [a, b] = await mesh(2)
    const got: number[] = []
    const off = b.onMessage(() => got.push(1))
    const got2: number[] = []
    b.onMessage(() => got2.push(1))
    off()
    a.sendTo(b.peerId, block(1))
    await eventually(() => got2.length === 1)
    expect(got).toEqual([])
  })

  it('requestBlocks is served by onBlockRequest, cut to the limit, and unsubscribable', async () => {
    const [a, b] = await mesh(2)
    const asked: [string, BlockSyncRequest][] = []
    const off = b.onBlockRequest(async (from, req) => {
      asked.push([from, req])
      const blocks: Uint8Array[] = []
      for (let h = req.fromHeight; h < req.fromHeight + BigInt(req.count) && h <= 10n; h++) {
        blocks.push(Uint8Array.of(Number(h)))
      }
      return { blocks }
    })
    const res = await a.requestBlocks(b.peerId, { fromHeight: 8n, count: 5 })
    expect(res.blocks).toEqual([Uint8Array.of(8), Uint8Array.of(9), Uint8Array.of(10)])
    expect(asked).toEqual([[a.peerId, { fromHeight: 8n, count: 5 }]])
    const big = await a.requestBlocks(b.peerId, { fromHeight: 0n, count: 100_000 })
    expect(asked[1][1].count).toBe(128)
    expect(big.blocks).toHaveLength(11)
    off()
    await expect(a.requestBlocks(b.peerId, { fromHeight: 0n, count: 1 })).rejects.toMatchObject({
      code: P2PErrorCode.REMOTE_ERROR,
    })
  })

  it('requestBlocks rejects for an unconnected peer, on timeout, and after stop', async () => {
    const [a, b] = await mesh(2)
    b.onBlockRequest(() => new Promise(() => {}))
    await expect(
      a.requestBlocks('12D3KooWNotAPeer', { fromHeight: 0n, count: 1 }),
    ).rejects.toMatchObject({
      code: P2PErrorCode.NOT_CONNECTED,
    })
    const slow = await f.make({ limits: { requestTimeoutMs: 300 } })
    await slow.dial(b.addresses()[0])
    await expect(slow.requestBlocks(b.peerId, { fromHeight: 0n, count: 1 })).rejects.toMatchObject({
      code: P2PErrorCode.TIMEOUT,
    })
    await a.stop()
    await expect(a.requestBlocks(b.peerId, { fromHeight: 0n, count: 1 })).rejects.toMatchObject({
      code: P2PErrorCode.STOPPED,
    })
    a.broadcast(vote)
    a.sendTo(b.peerId, vote)
    await expect(a.start()).rejects.toMatchObject({ code: P2PErrorCode.STOPPED })
  })

  it('a penalized invalid block response is an error, not data', async () => {
    const [a, b] = await mesh(2)
    b.onBlockRequest(async () => ({
      blocks: [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)],
    }))
    await expect(a.requestBlocks(b.peerId, { fromHeight: 0n, count: 2 })).resolves.toMatchObject({
      blocks: [Uint8Array.of(1), Uint8Array.of(2)],
    })
    // a raw server that answers garbage on the blocks protocol
    const c = await f.make({ chainId: 1n })
    await c.handle('blocks', () => Uint8Array.of(0xff, 0xff))
    await a.dial(c.addresses()[0])
    await expect(a.requestBlocks(c.peerId, { fromHeight: 0n, count: 1 })).rejects.toMatchObject({
      code: P2PErrorCode.INVALID_MESSAGE,
    })
    expect(a.listPeers().find((p) => p.id === c.peerId)?.score).toBeLessThan(0)
  })
})
