/**
 * Consensus benchmarks.
 * - bft.sim.blocksPerSec: 4 BFT validators on SimNetwork with zero delay, real BLS + ECVRF,
 *   committed blocks per wall-clock second (median of 3 runs of 60 blocks, each with another
 *   stake split so that no run reuses an earlier run's memoised verifications; the 4 nodes of
 *   one run share them, as before).
 * - bft.sim.roundsPerCommit: rounds per committed block in that run (1 = every round commits).
 * - bft.sim.latency50ms: fixed 50 ms one-way delay; median over blocks and nodes of
 *   (virtual time of commit - block timestamp, i.e. when the proposal was made), in ms. Votes and
 *   commit votes are broadcast, so every node commits 3 delays after the proposal.
 * - bft.qc.verify.N: one QC check for N validators with 2N/3+1 signers: bitmap + stake +
 *   aggregate of cached public keys + one BLS verify (ms, median of 31). Each QC signs another
 *   message, so no verification result is reused. The value is CPU time per check
 *   (process.cpuUsage): the check is single-threaded, and on a shared 2-core machine wall time
 *   measures the scheduler; the wall-clock median of the same calls is in the note.
 * The load average at the end of the run is in the notes (2 cores shared with other work).
 */
import { loadavg } from 'node:os'
import { bls } from '@aureon/crypto'
import { BenchReport, median } from '../../../bench/harness.js'
import {
  BftSimulation,
  makeBitmap,
  makeValidatorSet,
  simValidatorKeys,
  verifyQuorumCertificate,
  voteSigningBytes,
} from '../src/index.js'

const report = new BenchReport('consensus')

async function simRun(blocks: bigint, delay: number, variant = 0) {
  const sim = new BftSimulation({
    validators: 4,
    seed: 1,
    // a different stake split per run gives different leaders and blocks, so a run does not
    // reuse the signatures and verification results memoised by an earlier run
    stakes: [100n + BigInt(variant), 100n, 100n, 100n],
    network: { delay: { min: delay, max: delay } },
  })
  const latencies: number[] = []
  let messages = 0
  sim.net.tap = () => {
    messages++
  }
  for (const n of sim.nodes) {
    n.engine.on('commit', (ev) =>
      latencies.push(sim.clock.now() - Number(ev.block.header.timestamp)),
    )
  }
  await sim.start()
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await sim.runUntil(() => sim.minCommittedHeight() >= blocks, 10_000_000)
  const ms = performance.now() - t0
  const c = process.cpuUsage(c0)
  await sim.stop()
  sim.assertSafety()
  const e = sim.nodes[0].engine
  return {
    blocksPerSec: (Number(sim.minCommittedHeight()) * 1000) / ms,
    blocksPerCpuSec: (Number(sim.minCommittedHeight()) * 1e6) / (c.user + c.system),
    roundsPerCommit: Number(e.currentRound()) / Number(sim.nodes[0].chain.head().height),
    latency: median(latencies),
    messagesPerBlock: messages / Number(sim.minCommittedHeight()),
  }
}

// warm up caches of the runtime (not of the results)
await simRun(5n, 0)
const runs = [await simRun(60n, 0, 1), await simRun(60n, 0, 2), await simRun(60n, 0, 3)]
report.add({
  name: 'bft.sim.blocksPerSec',
  value: median(runs.map((r) => r.blocksPerSec)),
  unit: 'blocks/s',
  note: `wall clock; ${median(runs.map((r) => r.blocksPerCpuSec)).toFixed(1)} blocks per CPU second; 4 validators in one process, zero delay, real BLS and ECVRF; ${median(runs.map((r) => r.messagesPerBlock)).toFixed(1)} messages per committed block (proposal, votes and commit votes to all)`,
})
report.add({
  name: 'bft.sim.roundsPerCommit',
  value: median(runs.map((r) => r.roundsPerCommit)),
  unit: 'rounds',
})
const lat = await simRun(30n, 50)
report.add({
  name: 'bft.sim.latency50ms',
  value: lat.latency,
  unit: 'ms',
  note: 'virtual ms from proposal to commit at each node, 50 ms one-way delay: proposal, votes to all (every node forms the QC), commit votes to all, commit = 3 delays (was 5 with votes to the next leader only)',
})

for (const n of [4, 16, 64, 128]) {
  const vals = Array.from({ length: n }, (_, i) => simValidatorKeys(i))
  const set = makeValidatorSet(
    0n,
    vals.map((v) => v.validator),
  )
  const bySet = set.validators.map(
    (v) =>
      vals.find((x) => Buffer.compare(x.validator.address, v.address) === 0)?.keys
        .blsSecretKey as Uint8Array,
  )
  const signers = Array.from({ length: Math.floor((2 * n) / 3) + 1 }, (_, i) => i)
  const qcs = Array.from({ length: 12 }, (_, r) => {
    const hash = new Uint8Array(32).fill(r + 1)
    const msg = voteSigningBytes(0n, BigInt(r + 1), BigInt(r + 1), hash)
    return {
      epoch: 0n,
      round: BigInt(r + 1),
      height: BigInt(r + 1),
      blockHash: hash,
      signers: makeBitmap(signers, n),
      signature: bls.aggregateSignatures(signers.map((i) => bls.sign(msg, bySet[i]))),
    }
  })
  verifyQuorumCertificate(qcs[0], set) // decodes and aggregates the keys once
  let i = 1
  const cpu: number[] = []
  const wall: number[] = []
  for (let k = 0; k < 31; k++) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    if (!verifyQuorumCertificate(qcs[i++ % qcs.length], set)) throw new Error('QC did not verify')
    wall.push(performance.now() - t0)
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
  }
  report.add({
    name: `bft.qc.verify.${n}`,
    value: median(cpu),
    unit: 'ms',
    note: `CPU time; wall-clock median ${median(wall).toFixed(2)} ms; ${signers.length} signers; keys decoded once per validator set, aggregate cached per signer set, one signature decode + one pairing check per QC`,
  })
}
const load = loadavg()
for (const r of report.results)
  r.note = `${r.note ? `${r.note}; ` : ''}load average ${load[0].toFixed(1)} on 2 cores`

report.write()
