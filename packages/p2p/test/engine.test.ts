/**
 * A real engine on real sockets: three PoA authorities (@aureon/consensus, MemoryChain) whose
 * Transport is a P2PNode each, on 127.0.0.1 and the wall clock.
 */
import { MemoryChain, PoAEngine } from '@aureon/consensus'
import { ed25519, sha256 } from '@aureon/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually, link, nodeFactory } from './helpers.js'

const f = nodeFactory()
const engines: PoAEngine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop().catch(() => {})))
  await f.stopAll()
})

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex')

describe('[P2PNode]: PoA engine over libp2p', () => {
  it('three authorities seal and agree on one chain', async () => {
    const sks = [0, 1, 2].map((i) => sha256(new TextEncoder().encode(`p2p/poa/${i}`)))
    const authorities = sks.map((sk) => ed25519.getPublicKey(sk))
    const chains = sks.map(() => new MemoryChain())
    const genesisHash = chains[0].blockHash(chains[0].head())
    const nodes = []
    for (const chain of chains) {
      nodes.push(
        await f.make({
          chainId: chain.chainId,
          genesisHash,
          head: () => ({ height: chain.head().height, hash: chain.blockHash(chain.head()) }),
        }),
      )
    }
    await link(nodes[0], nodes[1])
    await link(nodes[1], nodes[2])
    await link(nodes[2], nodes[0])
    sks.forEach((sk, i) => {
      engines.push(
        new PoAEngine({
          chain: chains[i],
          transport: nodes[i],
          authorities,
          secretKey: sk,
          period: 200,
          outOfTurnDelay: 400,
        }),
      )
    })
    for (const e of engines) await e.start()
    await eventually(() => chains.every((c) => c.head().height >= 8n), 20_000)
    for (const e of engines) await e.stop()
    const [min] = chains.map((c) => c.head().height).sort((a, b) => Number(a - b))
    for (let h = 1n; h < min - 2n; h++) {
      const ref = hex(chains[0].hashAt(h))
      for (const c of chains) expect(hex(c.hashAt(h)), `height ${h}`).toBe(ref)
    }
  })
})
