import { join } from 'node:path'
import { bytesToHex } from '@aureon/crypto'
import { encodeBlock, rlpEncode } from '@aureon/ledger'
import { encodeManifest, exportSnapshot, readManifest } from '@aureon/snapshots'
import { afterAll, describe, expect, it } from 'vitest'
import { defaultSyncConfig } from '../src/config.js'
import { decodeOffers, rankOffers, type SnapshotOffer } from '../src/state-sync.js'
import { sealBlock, setup } from './chain-fixture.js'
import { removeDir, tempDir } from './helpers.js'

const dir = tempDir('offers')
afterAll(() => removeDir(dir))

describe('[state sync]: offers', () => {
  it('decodes offers, drops malformed ones, and ranks by peers, then height, within the trust settings', async () => {
    const c = await setup()
    const offers: SnapshotOffer[] = []
    for (let h = 1n; h <= 3n; h++) {
      await sealBlock(c, [h - 1n])
      const head = c.chain.head()
      const path = join(dir, `s${h}`)
      await exportSnapshot({
        dir: path,
        stateDb: c.store.stateDb,
        chainId: head.chainId,
        height: head.height,
        blockHash: c.store.headHash()!,
        stateRoot: head.stateRoot,
      })
      const manifest = await readManifest(path)
      const block = (await c.chain.getBlockByHeight(h))!
      const wire = rlpEncode([
        [encodeManifest(manifest), encodeBlock(block)],
        [new Uint8Array([1, 2, 3]), new Uint8Array(0)],
      ])
      const decoded = decodeOffers(wire)
      expect(decoded).toHaveLength(1)
      expect(decoded[0].manifest.height).toBe(h)
      offers.push({ ...decoded[0], peers: h === 2n ? ['p1', 'p2'] : ['p1'] })
    }
    const want = { chainId: 77n, sync: defaultSyncConfig }
    // most peers first, then the highest
    expect(rankOffers(offers, want).map((o) => o.manifest.height)).toEqual([2n, 3n, 1n])
    // trust settings
    expect(
      rankOffers(offers, { chainId: 77n, sync: { ...defaultSyncConfig, trustedHeight: 3 } }).map(
        (o) => o.manifest.height,
      ),
    ).toEqual([3n])
    const root = bytesToHex(offers[0].manifest.stateRoot)
    expect(
      rankOffers(offers, {
        chainId: 77n,
        sync: { ...defaultSyncConfig, trustedStateRoot: root },
      }).map((o) => o.manifest.height),
    ).toEqual([1n])
    const hash = bytesToHex(offers[2].manifest.blockHash)
    expect(
      rankOffers(offers, {
        chainId: 77n,
        sync: { ...defaultSyncConfig, trustedBlockHash: hash },
      }).map((o) => o.manifest.height),
    ).toEqual([3n])
    // another chain, or a block that is not the manifest's, is never used
    expect(rankOffers(offers, { chainId: 78n, sync: defaultSyncConfig })).toEqual([])
    const swapped = { ...offers[0], block: offers[1].block }
    expect(rankOffers([swapped], want)).toEqual([])
    expect(() => decodeOffers(new Uint8Array([0x01]))).toThrow()
  })
})
