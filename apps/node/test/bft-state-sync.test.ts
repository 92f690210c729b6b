import {
  createGenesis,
  createTxPool,
  decodeValidatorSet,
  encodeValidatorSet,
  genesisParams,
  openChainStore,
  rlpEncode,
  StateProcessor,
  VALIDATOR_SET_KEY,
} from '@aureon/ledger'
import { createStateTree } from '@aureon/merkle'
import { createMemoryStore } from '@aureon/storage'
import { describe, expect, it } from 'vitest'
import {
  neededBoundaries,
  ProvenValidatorSets,
  proveValidatorSet,
  verifyValidatorSetProof,
} from '../src/bft-state-sync.js'
import { networkGenesis, newValidatorKeys } from '../src/genesis-gen.js'
import { LedgerChain } from '../src/ledger-chain.js'
import { anchorCopy } from './chain-fixture.js'

const genesisConfig = networkGenesis({
  chainId: 77,
  engine: 'bft',
  validators: newValidatorKeys(3),
  timestamp: 0,
  params: { epochLength: '4' },
})

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

  it('a chain anchored above the boundaries serves their sets from proven records only', async () => {
    const src = await chainWithGenesis()
    const params = genesisParams(genesisConfig)
    const mkChain = (store: typeof src.store, proven?: ProvenValidatorSets) => {
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
    const srcChain = await mkChain(src.store)
    for (let i = 0; i < 6; i++) {
      const parent = srcChain.head()
      const ex = await srcChain.buildBlock({
        parent,
        timestamp: parent.timestamp + 1n,
        proposer: new Uint8Array(20),
        consensus: new Uint8Array(0),
      })
      await srcChain.commitBlock(ex.block)
    }
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
