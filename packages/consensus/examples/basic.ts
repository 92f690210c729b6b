import { BftSimulation } from '@aureon/consensus'

// Four BFT validators (real BLS votes, ECVRF leaders) on a simulated network with 20-50 ms
// one-way delays and 2% message loss, driven by a virtual clock: the same seed, the same run.
const sim = new BftSimulation({
  validators: 4,
  seed: 42,
  network: { delay: { min: 20, max: 50 }, dropRate: 0.02 },
})
await sim.start()
await sim.runUntil(() => sim.minCommittedHeight() >= 5n, 60_000)
await sim.stop()

// Safety: every honest node committed the same blocks and state roots.
sim.assertSafety()
const node = sim.nodes[0]
console.log(`committed height ${node.chain.head().height} in ${sim.clock.now()} virtual ms`)
console.log(`rounds ${node.engine.currentRound()}, timeouts ${node.engine.stats.timeouts}`)
export const committed = node.chain.head().height
