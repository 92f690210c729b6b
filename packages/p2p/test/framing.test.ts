import type { Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { readFrame } from '../src/framing.js'
import { P2PErrorCode } from '../src/index.js'
import { eventually, link, nodeFactory } from './helpers.js'

const f = nodeFactory()
afterEach(() => f.stopAll())

const MiB = 1024 * 1024

/** Deterministic, incompressible-looking bytes so a truncated or shifted frame cannot pass. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

// it-length-prefixed's encoder refuses frames over 4 MiB by default; before the fix every such
// response made the server reset the stream and the client failed with ERR_NOT_CONNECTED.
describe('[P2PNode]: responses over 4 MiB', () => {
  it('a 9 MiB response arrives intact under the default 64 MiB limit', async () => {
    const a = await f.make()
    const b = await f.make()
    await link(a, b)
    const big = pattern(9 * MiB, 1)
    await b.handle('big', async (req) => (req[0] === 1 ? big : Uint8Array.of(req[0])))
    const got = await a.request(b.peerId, 'big', Uint8Array.of(1))
    expect(got.length).toBe(big.length)
    expect(Buffer.compare(got, big)).toBe(0)
    // the connection and the protocol stay usable
    expect(await a.request(b.peerId, 'big', Uint8Array.of(7))).toEqual(Uint8Array.of(7))
    expect(a.listPeers().find((p) => p.id === b.peerId)?.score).toBe(0)
  }, 30_000)

  it('a block range of 6 MiB is served whole', async () => {
    const a = await f.make()
    const b = await f.make()
    await link(a, b)
    const blocks = [0, 1, 2].map((i) => pattern(2 * MiB, 10 + i))
    b.onBlockRequest(async () => ({ blocks }))
    const res = await a.requestBlocks(b.peerId, { fromHeight: 0n, count: 3 })
    expect(res.blocks).toHaveLength(3)
    for (let i = 0; i < 3; i++) expect(Buffer.compare(res.blocks[i], blocks[i])).toBe(0)
  }, 30_000)

  it('a response over the client limit fails with ERR_MESSAGE_TOO_LARGE and penalizes', async () => {
    const a = await f.make({ limits: { maxResponseBytes: 8 * MiB } })
    const b = await f.make()
    await link(a, b)
    await b.handle('big', async (req) => new Uint8Array(req[0] * MiB + req[1]))
    // exactly the limit passes
    expect((await a.request(b.peerId, 'big', Uint8Array.of(8, 0))).length).toBe(8 * MiB)
    const err = await a.request(b.peerId, 'big', Uint8Array.of(9, 0)).catch((e) => e)
    expect(err).toMatchObject({
      code: P2PErrorCode.MESSAGE_TOO_LARGE,
      details: { maxResponseBytes: 8 * MiB },
    })
    // the per-call limit is the same check
    await expect(
      a.request(b.peerId, 'big', Uint8Array.of(1, 1), { maxResponseBytes: MiB }),
    ).rejects.toMatchObject({ code: P2PErrorCode.MESSAGE_TOO_LARGE })
    expect(a.listPeers().find((p) => p.id === b.peerId)?.score).toBeLessThan(0)
    expect(a.peers()).toContain(b.peerId)
  }, 30_000)

  it('a server does not send a response over its own limit: ERR_REMOTE_ERROR says why', async () => {
    const a = await f.make()
    const b = await f.make({ limits: { maxResponseBytes: 5 * MiB } })
    await link(a, b)
    await b.handle('big', async (req) => new Uint8Array(req[0] * MiB))
    const err = await a.request(b.peerId, 'big', Uint8Array.of(6)).catch((e) => e)
    expect(err).toMatchObject({ code: P2PErrorCode.REMOTE_ERROR })
    expect(err.message).toMatch(/maxResponseBytes/)
    expect(b.stats().requestsFailed).toBe(1)
    expect((await a.request(b.peerId, 'big', Uint8Array.of(5))).length).toBe(5 * MiB)
  }, 30_000)
})

// gossipsub 17 frames its RPCs with the same 4 MiB encoder default and drops larger ones with a
// log line; blocks and consensus messages may be 8 MiB
describe('[P2PNode]: gossip over 4 MiB', () => {
  it('a block message near the 8 MiB topic limit is delivered', async () => {
    const a = await f.make()
    const b = await f.make()
    await link(a, b)
    await a.waitForPeers(1, { topic: 'blocks' })
    const got: Uint8Array[] = []
    b.subscribe('blocks', (d) => got.push(d))
    const block = pattern(8 * MiB - 1024, 3)
    expect(await a.publish('blocks', block)).toBe(1)
    await eventually(() => got.length === 1)
    expect(Buffer.compare(got[0], block)).toBe(0)
    await expect(a.publish('blocks', new Uint8Array(8 * MiB + 1))).rejects.toMatchObject({
      code: P2PErrorCode.MESSAGE_TOO_LARGE,
    })
  }, 30_000)
})

describe('[readFrame]: malformed frames from a peer', () => {
  const from = (...chunks: number[][]) =>
    (async function* () {
      for (const c of chunks) yield Uint8Array.from(c)
    })() as unknown as Stream

  it('refuses with coded errors, never a raw decoder error', async () => {
    // a whole frame reads
    expect(await readFrame(from([3, 1, 2, 3]), 16)).toEqual(Uint8Array.of(1, 2, 3))
    const code = (s: Stream, max = 16) =>
      readFrame(s, max).then(
        () => 'ok',
        (e) => e.code,
      )
    // length over the limit
    expect(await code(from([17]), 16)).toBe(P2PErrorCode.MESSAGE_TOO_LARGE)
    // data cut short, varint cut short, varint longer than 8 bytes, nothing at all
    expect(await code(from([5, 1, 2]))).toBe(P2PErrorCode.INVALID_MESSAGE)
    expect(await code(from([0x80]))).toBe(P2PErrorCode.INVALID_MESSAGE)
    expect(await code(from(new Array(12).fill(0x80)), 1 << 30)).toBe(P2PErrorCode.INVALID_MESSAGE)
    expect(await code(from())).toBe(P2PErrorCode.INVALID_MESSAGE)
  })
})
