import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { SNAPSHOT_NODE_FLAGS, SNAPSHOT_PROCESS_ENV } from '../src/index.js'

describe('[SNAPSHOT_NODE_FLAGS]: the snapshot process settings', () => {
  it('start a Node process whose V8 heap is capped at the old-generation limit plus the young generation', () => {
    const out = execFileSync(
      process.execPath,
      [
        ...SNAPSHOT_NODE_FLAGS,
        '-e',
        'console.log(JSON.stringify([require("v8").getHeapStatistics().heap_size_limit, process.env.MALLOC_ARENA_MAX]))',
      ],
      { env: { ...process.env, ...SNAPSHOT_PROCESS_ENV } },
    ).toString()
    const [limit, arenas] = JSON.parse(out) as [number, string]
    const mb = limit / 2 ** 20
    // 512 MiB old generation + 3 x 16 MiB young generation (semi-spaces and new large objects)
    expect(mb).toBeGreaterThanOrEqual(512)
    expect(mb).toBeLessThanOrEqual(512 + 64)
    expect(arenas).toBe('2')
  })
})
