import {
  bigintToBytes,
  createGenesis,
  createTxPool,
  decodeUint,
  decodeValidatorSet,
  encodeBlock,
  encodeValidatorSet,
  expectList,
  genesisParams,
  openChainStore,
  rlpDecodeStrict,
  rlpEncode,
  StateProcessor,
  VALIDATOR_SET_KEY,
} from '@aureon/ledger'
import { createStateTree } from '@aureon/merkle'
import type { P2PNode, PeerInfo } from '@aureon/p2p'
import { createMemoryStore } from '@aureon/storage'
import { describe, expect, it } from 'vitest'
import {
  bftPeersToAwait,
  fetchBftHistory,
  neededBoundaries,
  ProvenValidatorSets,
  peersByHead,
  proveValidatorSet,
  serveValidatorSetProofs,
  VALIDATOR_SET_PROOF_PROTOCOL,
  verifyValidatorSetProof,
} from '../src/bft-state-sync.js'
import { networkGenesis, newValidatorKeys } from '../src/genesis-gen.js'
import { LedgerChain } from '../src/ledger-chain.js'
import { createLogger } from '../src/logger.js'
import { StateSyncError } from '../src/state-sync.js'
import { anchorCopy } from './chain-fixture.js'

const genesisConfig = networkGenesis({
  chainId: 77,
  engine: 'bft',
  validators: newValidatorKeys(3),
  timestamp: 0,
  params: { epochLength: '4' },
})

type Store = Awaited<ReturnType<typeof openChainStore>>

function mkChain(store: Store, proven?: ProvenValidatorSets): Promise<LedgerChain> {
  const params = genesisParams(genesisConfig)
  let chain: LedgerChain | undefined
  const pool = createTxPool({
    chainId: 77n,
    params,
    getAccount: (a) => chain!.state().getAccount(a),
  })
  return LedgerChain.create({
    store,
    processor: new StateProcessor({ params }),
    pool,
    params,
    provenValidatorSet: proven ? async (h) => (await proven.get(h))?.value : undefined,
  }).then((c) => {
    chain = c
    return c
  })
}

/** A source chain of genesis + `n` empty blocks. */
async function sourceChain(n: number) {
  const src = await chainWithGenesis()
  const chain = await mkChain(src.store)
  for (let i = 0; i < n; i++) {
    const parent = chain.head()
    const ex = await chain.buildBlock({
      parent,
      timestamp: parent.timestamp + 1n,
      proposer: new Uint8Array(20),
      consensus: new Uint8Array(0),
    })
    await chain.commitBlock(ex.block)
  }
  return { ...src, chain }
}

async function chainWithGenesis() {
  const db = createMemoryStore()
  const store = await openChainStore({ db })
  const g = await createGenesis({ config: genesisConfig, db: store.stateDb })
  await store.commitBlock({ block: g.block, receipts: [], stateOps: g.stateOps })
  return { db, store, genesis: g.block }
}

describe('[bft state sync]: boundaries the engine reads below a snapshot', () => {
  it('names the sources of the head QC epoch, the next block epoch and the one after, and genesis', () => {
    // L = 5, H = 12: epochs 2 (blocks 11..15) and 3 read the sets of blocks 5 and 10
    expect(neededBoundaries(12n, 5n)).toEqual([0n, 5n, 10n])
    // H on a boundary: the QC of block 10 is of epoch 1 (source 0); block 11 is of epoch 2
    // (source 5); epoch 3's source is block 10 itself (its state is the snapshot's)
    expect(neededBoundaries(10n, 5n)).toEqual([0n, 5n])
    expect(neededBoundaries(3n, 5n)).toEqual([0n])
    expect(neededBoundaries(103n, 10n)).toEqual([0n, 90n, 100n])
  })
})

describe('[bft start]: peers awaited before the engine starts', () => {
  it('a quorum with the node itself, so one validator of four down (or joining late) delays no one', () => {
    // 4 validators (3 bootstrap peers): quorum 3 = itself + 2 peers (it waited for all 3)
    expect(bftPeersToAwait(3)).toBe(2)
    expect(bftPeersToAwait(1)).toBe(1)
    expect(bftPeersToAwait(2)).toBe(2)
    // 7 validators: quorum 5 = itself + 4; 10: quorum 7 = itself + 6
    expect(bftPeersToAwait(6)).toBe(4)
    expect(bftPeersToAwait(9)).toBe(6)
  })
})

describe('[bft state sync]: validator-set proofs', () => {
  it('verifies a served proof against the header state root and refuses forged ones', async () => {
    const { db, store, genesis } = await chainWithGenesis()
    const proven = new ProvenValidatorSets(db, store)
    const r = (await proveValidatorSet(store, proven, 0n))!
    expect(r).toBeDefined()
    const ok = await verifyValidatorSetProof(genesis.header, rlpEncode([r.value, r.proof]))
    expect(decodeValidatorSet(ok.value).validators).toHaveLength(3)

    // a forged record (one validator dropped) with the genuine proof
    const set = decodeValidatorSet(r.value)
    const forged = encodeValidatorSet({
      ...set,
      validators: set.validators.slice(1),
      totalStake: set.validators.slice(1).reduce((s, v) => s + v.stake, 0n),
    })
    await expect(
      verifyValidatorSetProof(genesis.header, rlpEncode([forged, r.proof])),
    ).rejects.toMatchObject({ code: 'ERR_STATE_SYNC_BAD_PROOF' })

    // a forged record WITH a proof of a trie that holds it (another root)
    const other = await createStateTree({ db: createMemoryStore() })
    await other.put(VALIDATOR_SET_KEY, forged)
    const otherProof = await other.createProof(VALIDATOR_SET_KEY)
    await expect(
      verifyValidatorSetProof(genesis.header, rlpEncode([forged, otherProof])),
    ).rejects.toMatchObject({ code: 'ERR_STATE_SYNC_BAD_PROOF' })

    // a tampered proof node, an empty proof, garbage
    const tampered = r.proof.map((n) => n.slice())
    tampered[tampered.length - 1][5] ^= 1
    for (const bad of [
      rlpEncode([r.value, tampered]),
      rlpEncode([r.value, []]),
      new Uint8Array([1, 2, 3]),
    ]) {
      await expect(verifyValidatorSetProof(genesis.header, bad)).rejects.toMatchObject({
        code: 'ERR_STATE_SYNC_BAD_PROOF',
      })
    }
  })

  it('the validator-set-proof handler refuses malformed requests and unknown heights with codes', async () => {
    const { db, store, genesis } = await chainWithGenesis()
    const proven = new ProvenValidatorSets(db, store)
    let handler: ((req: Uint8Array) => Promise<Uint8Array>) | undefined
    const p2p = {
      handle: async (_protocol: string, fn: (req: Uint8Array) => Promise<Uint8Array>) => {
        handler = fn
        return async () => {}
      },
    } as unknown as P2PNode
    await serveValidatorSetProofs(p2p, store, proven)
    const serve = handler as (req: Uint8Array) => Promise<Uint8Array>
    for (const bad of [new Uint8Array([0xff, 1]), rlpEncode([]), rlpEncode([[], []])]) {
      await expect(serve(bad)).rejects.toMatchObject({ code: 'ERR_INVALID_REQUEST' })
    }
    await expect(serve(rlpEncode([bigintToBytes(7n)]))).rejects.toMatchObject({
      code: 'ERR_STATE_SYNC_NOT_SERVED',
    })
    const ok = await verifyValidatorSetProof(
      genesis.header,
      await serve(rlpEncode([new Uint8Array(0)])),
    )
    expect(decodeValidatorSet(ok.value).validators).toHaveLength(3)
  })

  it('a chain anchored above the boundaries serves their sets from proven records only', async () => {
    const src = await sourceChain(6)
    const srcChain = src.chain
    // anchor a fresh store at block 6 (state copied), with genesis
    const { db, store } = await anchorCopy(src.store, 6n)
    await store.backfill([
      (await src.store.getBlockByHeight(4n))!,
      (await src.store.getBlockByHeight(5n))!,
    ])
    const proven = new ProvenValidatorSets(db, store)
    const chain = await mkChain(store, proven)
    // boundary 4 (epoch 1) and genesis: below the base, nothing proven yet
    await expect(chain.validatorSet(1n)).rejects.toMatchObject({ code: 'ERR_PRUNED' })
    await expect(chain.validatorSet(0n)).rejects.toMatchObject({ code: 'ERR_PRUNED' })
    const srcProven = new ProvenValidatorSets(src.db, src.store)
    const records = []
    for (const h of [0n, 4n]) {
      const r = (await proveValidatorSet(src.store, srcProven, h))!
      const header = (await store.getHeader(h))!
      records.push(await verifyValidatorSetProof(header, rlpEncode([r.value, r.proof])))
    }
    await proven.putAll(records)
    const want = await srcChain.validatorSet(1n)
    expect(await chain.validatorSet(1n)).toEqual(want)
    expect((await chain.validatorSet(0n)).validators).toHaveLength(3)
    // the anchored node serves what it proved (and the state it holds)
    expect((await proveValidatorSet(store, proven, 4n))!.value).toEqual(records[1].value)
    expect(await proveValidatorSet(store, proven, 5n)).toBeUndefined()
    expect((await proveValidatorSet(store, proven, 6n))!.value).toEqual(records[1].value)
  })
})

describe('[bft state sync]: fetching the history below the snapshot from peers', () => {
  it('asks the peers with the highest head first (asked again: handshake heads are stale), not one that is syncing itself', async () => {
    const src = await sourceChain(6)
    const srcProven = new ProvenValidatorSets(src.db, src.store)
    const { db, store } = await anchorCopy(src.store, 6n)
    const proven = new ProvenValidatorSets(db, store)
    // all three announced head 0 at the handshake (they started together); asked again, 'b' is
    // at 6, 'a' (first by id) is a fresh node that serves nothing, 'c' does not answer
    const heads: Record<string, bigint | undefined> = { a: 0n, b: 6n, c: undefined }
    const asked: string[] = []
    const p2p = {
      peers: () => ['c', 'a', 'b'],
      listPeers: () =>
        ['a', 'b', 'c'].map(
          (id) => ({ id, ready: true, status: { headHeight: 0n } }) as unknown as PeerInfo,
        ),
      requestStatus: async (peer: string) => {
        const h = heads[peer]
        if (h === undefined) throw new Error('status timed out')
        return { headHeight: h }
      },
      waitForPeers: async () => undefined,
      penalize: () => undefined,
      requestBlocks: async (peer: string, req: { fromHeight: bigint; count: number }) => {
        asked.push(`${peer}:blocks`)
        if (peer !== 'b') throw new StateSyncError('ERR_STATE_SYNC_NOT_SERVED', 'no blocks here')
        const blocks = []
        for (let h = req.fromHeight; h < req.fromHeight + BigInt(req.count); h++)
          blocks.push(encodeBlock((await src.store.getBlockByHeight(h))!))
        return { blocks }
      },
      request: async (peer: string, protocol: string, body: Uint8Array) => {
        asked.push(`${peer}:${protocol}`)
        if (peer !== 'b') throw new StateSyncError('ERR_STATE_SYNC_NOT_SERVED', 'no record here')
        const height = decodeUint(expectList(rlpDecodeStrict(body, 64, 'req'), 1, 'req')[0], 'h')
        const r = (await proveValidatorSet(src.store, srcProven, height))!
        return rlpEncode([r.value, r.proof])
      },
    } as unknown as P2PNode
    expect(await peersByHead(p2p)).toEqual(['b', 'a', 'c'])
    await fetchBftHistory({
      p2p,
      chain: store,
      proven,
      epochLength: 4n,
      logger: createLogger({ level: 'silent' }),
      timeoutMs: 1000,
    })
    // H = 6, L = 4: blocks 4 and 5, the sets of blocks 0 and 4, all from 'b' at the first try
    expect(asked).toEqual([
      'b:blocks',
      `b:${VALIDATOR_SET_PROOF_PROTOCOL}`,
      `b:${VALIDATOR_SET_PROOF_PROTOCOL}`,
    ])
    expect((await store.getBlockByHeight(4n))!.header).toEqual(
      (await src.store.getBlockByHeight(4n))!.header,
    )
    expect((await proven.get(4n))?.value).toEqual(
      (await proveValidatorSet(src.store, srcProven, 4n))!.value,
    )
    expect(await proven.get(0n)).toBeDefined()
    // a peer slow to answer its status keeps its handshake head (the ranking waits 'waitMs')
    const slow = { ...p2p, requestStatus: () => new Promise<never>(() => undefined) } as P2PNode
    expect(await peersByHead(slow, 20)).toEqual(['a', 'b', 'c'])
    // a restart (the store opened again on the same db) finds it all: it asks no peer, and the
    // reopened chain serves the sets below its base from the kept records
    asked.length = 0
    const reopened = await openChainStore({ db })
    expect(reopened.baseHeight()).toBe(6n)
    // the backfilled boundary block (the engine's leader-draw seed of epoch 2) is still there
    expect((await reopened.getBlockByHeight(4n))!.header).toEqual(
      (await src.store.getBlockByHeight(4n))!.header,
    )
    expect(await reopened.getBlockByHeight(3n)).toBeUndefined()
    const provenAgain = new ProvenValidatorSets(db, reopened)
    await fetchBftHistory({
      p2p,
      chain: reopened,
      proven: provenAgain,
      epochLength: 4n,
      logger: createLogger({ level: 'silent' }),
      timeoutMs: 1000,
    })
    expect(asked).toEqual([])
    const chain = await mkChain(reopened, provenAgain)
    expect(await chain.validatorSet(1n)).toEqual(await src.chain.validatorSet(1n))
    expect(await chain.validatorSet(0n)).toEqual(await src.chain.validatorSet(0n))

    // a node stopped after the blocks were backfilled, before the proofs were stored: its next
    // start fetches only the proofs
    const cut = await anchorCopy(src.store, 6n)
    await cut.store.backfill([
      (await src.store.getBlockByHeight(4n))!,
      (await src.store.getBlockByHeight(5n))!,
    ])
    asked.length = 0
    const cutProven = new ProvenValidatorSets(cut.db, cut.store)
    await fetchBftHistory({
      p2p,
      chain: cut.store,
      proven: cutProven,
      epochLength: 4n,
      logger: createLogger({ level: 'silent' }),
      timeoutMs: 1000,
    })
    expect(asked).toEqual([
      `b:${VALIDATOR_SET_PROOF_PROTOCOL}`,
      `b:${VALIDATOR_SET_PROOF_PROTOCOL}`,
    ])
    expect(await cutProven.get(4n)).toBeDefined()
  })
})
