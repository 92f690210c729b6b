import { describe, expect, it } from 'vitest'
import { BftSimulation } from '../src/index.js'

describe('[BFT]: happy path', () => {
  it('4 validators commit blocks with zero delay', async () => {
    const sim = new BftSimulation({ validators: 4, seed: 1 })
    await sim.start()
    const ok = await sim.runUntil(() => sim.minCommittedHeight() >= 10n, 60_000)
    await sim.stop()
    expect(ok).toBe(true)
    sim.assertSafety()
    const e = sim.nodes[0].engine
    console.log('round', e.stats.round, 'commits', e.stats.commits, 't', sim.clock.now())
  })
})
