import { bls, ed25519 } from '@aureon/crypto'
import { describe, expect, it } from 'vitest'
import {
  BftSimulation,
  type ConsensusMessage,
  ConsensusMessageType,
  decodeBftHeaderData,
  encodeBftHeaderData,
  genesisQC,
  MapStore,
  makeValidatorSet,
  type ProposalMessage,
  proposalSigningBytes,
  rlpEncode,
  SafetyStore,
} from '../src/index.js'

describe('[BFT]: happy path', () => {
  it('4 validators commit blocks with zero delay, 2-chain commit every round', async () => {
    const sim = new BftSimulation({ validators: 4, seed: 1 })
    await sim.start()
    const ok = await sim.runUntil(() => sim.minCommittedHeight() >= 20n, 60_000)
    await sim.stop()
    expect(ok).toBe(true)
    sim.assertSafety()
    const e = sim.nodes[0].engine
    // with no faults every round commits one block: round = height + 2
    expect(e.stats.timeouts).toBe(0)
    expect(e.currentRound()).toBeLessThanOrEqual(sim.minCommittedHeight() + 3n)
    // each committed block carries its parent's QC and a VRF proof
    const b = await sim.nodes[1].chain.getBlockByHeight(5n)
    const data = decodeBftHeaderData(b?.header.consensus ?? new Uint8Array())
    expect(data.parentQC.height).toBe(4n)
    expect(data.vrfProof.length).toBe(80)
    // per-round state is pruned as the root advances: a long-running node does not grow
    const internal = e as unknown as {
      verifiedQCs: Map<string, bigint>
      formed: Map<string, bigint>
    }
    const oldest = (m: Map<string, bigint>) => Math.min(...[...m.values()].map(Number))
    // 20+ rounds ran: the memos hold entries, but only of the last few rounds
    expect(e.currentRound()).toBeGreaterThanOrEqual(20n)
    expect(internal.verifiedQCs.size).toBeGreaterThan(0)
    expect(internal.formed.size).toBeGreaterThan(0)
    expect(oldest(internal.verifiedQCs)).toBeGreaterThanOrEqual(Number(e.currentRound()) - 12)
    expect(oldest(internal.formed)).toBeGreaterThanOrEqual(Number(e.currentRound()) - 4)
    expect(internal.verifiedQCs.size).toBeLessThanOrEqual(13)
  })

  it('votes and commit votes reach every validator: commit 3 one-way delays after the proposal', async () => {
    const sim = new BftSimulation({
      validators: 4,
      seed: 3,
      network: { delay: { min: 10, max: 10 } },
    })
    const sentTo = new Map<number, Set<string>>()
    sim.net.tap = (from, to, m) => {
      if (from !== 'v2') return
      const set = sentTo.get(m.type) ?? new Set()
      set.add(to)
      sentTo.set(m.type, set)
    }
    const lat: number[] = []
    for (const n of sim.nodes) {
      n.engine.on('commit', (ev) => lat.push(sim.clock.now() - Number(ev.block.header.timestamp)))
    }
    await sim.start()
    await sim.runUntil(() => sim.minCommittedHeight() >= 10n, 60_000)
    await sim.stop()
    sim.assertSafety()
    expect([...(sentTo.get(ConsensusMessageType.Vote) ?? [])].sort()).toEqual(['v0', 'v1', 'v3'])
    expect([...(sentTo.get(ConsensusMessageType.CommitVote) ?? [])].sort()).toEqual([
      'v0',
      'v1',
      'v3',
    ])
    // proposal -> votes -> (QC everywhere) commit votes -> commit: 3 x 10 ms at every node
    // (block 1's timestamp is genesis + 1 ms, so it shows 29)
    expect(lat.filter((x) => x !== 30)).toEqual([29, 29, 29, 29])
    const e = sim.nodes[0].engine
    expect(e.stats.fastCommits).toBeGreaterThan(0)
    expect(e.stats.commitVotes).toBeGreaterThanOrEqual(10)
  })

  it('stake-weighted: a validator with most stake leads most rounds', async () => {
    const sim = new BftSimulation({ validators: 4, seed: 2, stakes: [1000n, 100n, 100n, 100n] })
    await sim.start()
    await sim.runUntil(() => sim.minCommittedHeight() >= 20n, 120_000)
    await sim.stop()
    sim.assertSafety()
    const heavy = sim.validators[0].address
    let led = 0
    for (let h = 1n; h <= 20n; h++) {
      const b = await sim.nodes[0].chain.getBlockByHeight(h)
      if (b && Buffer.compare(b.header.proposer, heavy) === 0) led++
    }
    expect(led).toBeGreaterThan(10)
  })
})

describe('[BFT]: epochs', () => {
  it('the validator set changes at epoch boundaries (one epoch of activation lag)', async () => {
    const sim = new BftSimulation({
      validators: 5,
      seed: 3,
      epochLength: 4n,
      // epoch 0 records validators 0..3; from epoch 1 on, validators 1..4
      validatorSetAt: (epoch, all) =>
        makeValidatorSet(epoch, epoch === 0n ? all.slice(0, 4) : all.slice(1, 5)),
    })
    await sim.start()
    const ok = await sim.runUntil(() => sim.minCommittedHeight() >= 16n, 120_000)
    await sim.stop()
    expect(ok).toBe(true)
    sim.assertSafety()
    const out = sim.validators[0].address
    const joined = sim.validators[4].address
    let joinedLed = 0
    for (let h = 1n; h <= 16n; h++) {
      const b = await sim.nodes[1].chain.getBlockByHeight(h)
      if (!b) throw new Error(`no block ${h}`)
      const data = decodeBftHeaderData(b.header.consensus)
      expect(data.epoch).toBe((h - 1n) / 4n)
      // epochs 0 and 1 run with the genesis set, epoch 2 on with the set recorded at block 4
      if (h > 8n) expect(Buffer.compare(b.header.proposer, out)).not.toBe(0)
      if (Buffer.compare(b.header.proposer, joined) === 0) {
        joinedLed++
        expect(h).toBeGreaterThan(8n)
      }
    }
    expect(joinedLed).toBeGreaterThanOrEqual(0)
  })
})

describe('[BFT]: liveness', () => {
  for (const seed of [11, 12, 13, 14, 15]) {
    it(`after a partition heals, commits resume within a bounded number of rounds (seed ${seed})`, async () => {
      const n = 4
      const sim = new BftSimulation({
        validators: n,
        seed,
        baseTimeout: 200,
        network: { delay: { min: 1, max: 40 }, dropRate: 0.05 },
      })
      try {
        await sim.start()
        await sim.crash(3) // f = 1 crashed for the whole run
        await sim.runUntil(() => false, 1_000)
        sim.net.partition([['v0'], ['v1', 'v2']])
        await sim.runUntil(() => false, 3_000)
        sim.net.heal()
        const h0 = sim.minCommittedHeight()
        const r0 = sim.nodes
          .filter((x) => x.up)
          .map((x) => x.engine.currentRound())
          .sort((a, b) => (a < b ? 1 : -1))[0]
        const ok = await sim.runUntil(() => sim.minCommittedHeight() >= h0 + 3n, 120_000)
        expect(ok, `seed ${seed}`).toBe(true)
        const r1 = sim.nodes[0].engine.currentRound()
        // bound: a round-robin pass over n validators to reach an honest leader after
        // timeouts, then 3 rounds of 2-chain commits, plus slack for rounds lost to drops
        const bound = BigInt(3 * n + 10)
        expect(r1 - r0, `seed ${seed}: rounds ${r0} -> ${r1}`).toBeLessThanOrEqual(bound)
        sim.assertSafety()
      } finally {
        await sim.stop()
      }
    })
  }
})

describe('[BFT]: restart', () => {
  it('a validator crashed for many rounds rejoins from its store, catches up, never double votes', async () => {
    const sim = new BftSimulation({
      validators: 4,
      seed: 21,
      baseTimeout: 300,
      network: { delay: { min: 1, max: 20 } },
    })
    // record every vote and timeout on the wire: (sender, round) -> distinct signed contents
    const signed = new Map<string, Set<string>>()
    const tap = (from: string, _to: string, m: ConsensusMessage) => {
      if (m.type !== ConsensusMessageType.Vote) return
      const k = `${from}:${m.round}`
      const set = signed.get(k) ?? new Set()
      set.add(Buffer.from(m.blockHash).toString('hex'))
      signed.set(k, set)
    }
    sim.net.tap = tap
    await sim.start()
    await sim.runUntil(() => sim.minCommittedHeight() >= 5n, 60_000)
    await sim.crash(2)
    const stuckAt = sim.nodes[2].chain.head().height
    await sim.runUntil(() => sim.minCommittedHeight() >= stuckAt + 40n, 600_000)
    // it persisted its safety rules before voting
    const saved = await new SafetyStore(sim.nodes[2].store).load()
    expect(saved.lastVotedRound).toBeGreaterThan(0n)
    await sim.restart(2)
    const target = sim.nodes[0].chain.head().height + 5n
    const ok = await sim.runUntil(() => sim.nodes[2].chain.head().height >= target, 120_000)
    expect(ok).toBe(true)
    expect(sim.nodes[2].engine.stats.syncs).toBeGreaterThan(0)
    await sim.stop()
    sim.assertSafety()
    for (const [k, set] of signed) expect(set.size, `double vote ${k}`).toBe(1)
  })

  it('a validator crashed for many epochs rejoins: proposals from unknown epochs start a sync', async () => {
    const sim = new BftSimulation({
      validators: 4,
      seed: 22,
      epochLength: 4n,
      baseTimeout: 300,
      network: { delay: { min: 1, max: 20 } },
    })
    await sim.start()
    await sim.runUntil(() => sim.minCommittedHeight() >= 3n, 60_000)
    await sim.crash(3)
    const stuckAt = sim.nodes[3].chain.head().height
    // ten epochs pass: the sets the live validators use are unreadable from its store
    await sim.runUntil(() => sim.minCommittedHeight() >= stuckAt + 40n, 600_000)
    await sim.restart(3)
    const target = sim.nodes[0].chain.head().height + 5n
    const ok = await sim.runUntil(() => sim.nodes[3].chain.head().height >= target, 120_000)
    expect(ok).toBe(true)
    expect(sim.nodes[3].engine.stats.syncs).toBeGreaterThan(0)
    await sim.stop()
    sim.assertSafety()
  })

  it('a timeout whose epoch does not follow its high QC is refused and starts no sync', async () => {
    const sim = new BftSimulation({
      validators: 4,
      seed: 23,
      baseTimeout: 200,
      network: { delay: { min: 1, max: 10 } },
    })
    let genuine: ConsensusMessage | undefined
    sim.net.tap = (_from, _to, m) => {
      if (!genuine && m.type === ConsensusMessageType.Timeout) genuine = m
    }
    await sim.start()
    await sim.runUntil(() => sim.minCommittedHeight() >= 2n, 60_000)
    await sim.crash(1) // its rounds time out: the others sign timeouts
    await sim.runUntil(() => genuine !== undefined, 60_000)
    const t = genuine as ConsensusMessage & { type: typeof ConsensusMessageType.Timeout }
    const node = sim.nodes[0].engine
    const before = { ...node.stats }
    // a far epoch would have read as "this node is behind" and sent it syncing from the sender
    node.onMessage('v2', { ...t, epoch: 1_000_000n, round: t.round + 1000n })
    await sim.runUntil(() => node.stats.rejected > before.rejected, 10_000)
    expect(node.stats.rejected).toBeGreaterThan(before.rejected)
    expect(node.stats.syncs).toBe(before.syncs)
    await sim.stop()
    sim.assertSafety()
  })

  it('restarting right after a vote does not vote again in that round', async () => {
    const sim = new BftSimulation({
      validators: 4,
      seed: 31,
      network: { delay: { min: 5, max: 5 } },
    })
    let votesBy1 = 0
    sim.net.tap = (from, _to, m) => {
      if (from === 'v1' && m.type === ConsensusMessageType.Vote) votesBy1++
    }
    await sim.start()
    await sim.runUntil(() => votesBy1 >= 3, 10_000)
    const before = await new SafetyStore(sim.nodes[1].store).load()
    await sim.crash(1)
    await sim.restart(1)
    // the restarted engine starts no lower than the last voted round
    expect(sim.nodes[1].engine.currentRound()).toBeGreaterThanOrEqual(before.lastVotedRound)
    // and holds at least the QC it last signed with (its timeouts never report less)
    expect(before.highQC).toBeDefined()
    expect(sim.nodes[1].engine.highestQC().round).toBeGreaterThanOrEqual(before.highQC?.round ?? 1n)
    await sim.runUntil(() => sim.minCommittedHeight() >= 10n, 60_000)
    await sim.stop()
    sim.assertSafety()
  })
})

describe('[BFT]: validation', () => {
  it('validateBlock accepts committed blocks and rejects tampered ones', async () => {
    const sim = new BftSimulation({ validators: 4, seed: 41 })
    await sim.start()
    await sim.runUntil(() => sim.minCommittedHeight() >= 4n, 60_000)
    await sim.stop()
    const node = sim.nodes[0]
    const b3 = await node.chain.getBlockByHeight(3n)
    if (!b3) throw new Error('no block 3')
    await node.engine.validateBlock(b3)
    const bad = { ...b3, header: { ...b3.header, proposer: new Uint8Array(20) } }
    await expect(node.engine.validateBlock(bad)).rejects.toMatchObject({
      code: 'ERR_WRONG_PROPOSER',
    })
    const garbage = { ...b3, header: { ...b3.header, consensus: new Uint8Array([1, 2]) } }
    await expect(node.engine.validateBlock(garbage)).rejects.toMatchObject({
      code: 'ERR_INVALID_BLOCK',
    })
  })
})

describe('[BFT]: safety store and forged certificates', () => {
  it('safety data round-trips, and records without the commit-vote fields still load', async () => {
    const store = new MapStore()
    const ss = new SafetyStore(store)
    expect(await ss.load()).toEqual({
      lastVotedRound: 0n,
      highestQCRound: 0n,
      lastTimeoutRound: 0n,
      commitVotedRound: 0n,
    })
    const qc = { ...genesisQC(new Uint8Array(32).fill(1)), round: 9n, height: 8n }
    const d = {
      lastVotedRound: 11n,
      highestQCRound: 9n,
      lastTimeoutRound: 10n,
      commitVotedRound: 9n,
      highQC: qc,
    }
    await ss.save(d)
    expect(await ss.load()).toEqual(d)
    // the record a node wrote before commit votes existed: [lastVotedRound, highestQCRound]
    await store.put(new TextEncoder().encode('bft/safety'), rlpEncode([7, 5]))
    // it may have timed out up to round 7: it commit-votes only above
    expect(await ss.load()).toEqual({
      lastVotedRound: 7n,
      highestQCRound: 5n,
      lastTimeoutRound: 7n,
      commitVotedRound: 0n,
    })
  })

  it('a proposal whose parent QC does not verify is refused even where the parent is certified', async () => {
    const sim = new BftSimulation({
      validators: 4,
      seed: 5,
      network: { delay: { min: 5, max: 5 } },
    })
    const votedFor = new Set<string>()
    let forgedHex: string | undefined
    let injected = false
    sim.net.tap = (from, _to, m) => {
      if (m.type === ConsensusMessageType.Vote && from === 'v0') {
        votedFor.add(Buffer.from(m.blockHash).toString('hex'))
      }
      if (injected || m.type !== ConsensusMessageType.Proposal || m.round < 4n || from === 'v0') {
        return
      }
      injected = true
      // the leader signs a second block for the round: same parent, same VRF proof, but its
      // header carries a parent QC with a wrong aggregate signature
      const leader = sim.nodes.find((n) => n.id === from)
      if (!leader) throw new Error('no leader')
      const chain = sim.nodes[0].chain
      const block = chain.decodeBlock(m.block)
      const data = decodeBftHeaderData(block.header.consensus)
      const forgedSig = bls.sign(new TextEncoder().encode('not the vote'), leader.keys.blsSecretKey)
      const header = {
        ...block.header,
        consensus: encodeBftHeaderData({
          ...data,
          parentQC: { ...data.parentQC, signature: forgedSig },
        }),
      }
      const hash = chain.blockHash(header)
      forgedHex = Buffer.from(hash).toString('hex')
      const forged: ProposalMessage = {
        ...m,
        block: chain.encodeBlock({ ...block, header }),
        signature: ed25519.sign(
          proposalSigningBytes(m.epoch, m.round, hash),
          leader.keys.secretKey,
        ),
      }
      // v0 gets it 1 ms after the leader sent the real one, having formed the parent QC itself
      sim.clock.setTimeout(() => sim.nodes[0].engine.onMessage(from, forged), 1)
    }
    await sim.start()
    const rejectedBefore = sim.nodes[0].engine.stats.rejected
    await sim.runUntil(() => sim.minCommittedHeight() >= 8n, 60_000)
    await sim.stop()
    sim.assertSafety()
    expect(forgedHex).toBeDefined()
    expect(votedFor.has(forgedHex as string)).toBe(false)
    expect(sim.nodes[0].engine.stats.rejected).toBeGreaterThan(rejectedBefore)
  })
})
