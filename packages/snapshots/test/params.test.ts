import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import {
  SNAPSHOT_EXPORT_NODE_FLAGS,
  SNAPSHOT_EXPORT_STORE_OPTIONS,
  SNAPSHOT_NODE_FLAGS,
  SNAPSHOT_PROCESS_ENV,
} from '../src/index.js'

describe('[SNAPSHOT_NODE_FLAGS]: the snapshot process settings', () => {
  it('start a Node process whose V8 heap is capped at the old-generation limit plus the young generation', () => {
    const out = execFileSync(
      process.execPath,
      [
        ...SNAPSHOT_NODE_FLAGS,
        '-e',
        'console.log(JSON.stringify([require("v8").getHeapStatistics().heap_size_limit, process.env.MALLOC_ARENA_MAX, process.env.MALLOC_MMAP_THRESHOLD_]))',
      ],
      { env: { ...process.env, ...SNAPSHOT_PROCESS_ENV } },
    ).toString()
    const [limit, arenas, mmapThreshold] = JSON.parse(out) as [number, string, string]
    const mb = limit / 2 ** 20
    // 512 MiB old generation + 3 x 16 MiB young generation (semi-spaces and new large objects)
    expect(mb).toBeGreaterThanOrEqual(512)
    expect(mb).toBeLessThanOrEqual(512 + 64)
    expect(arenas).toBe('2')
    expect(mmapThreshold).toBe('131072')
  })
})

describe('[SNAPSHOT_EXPORT_NODE_FLAGS]: the export process settings', () => {
  it('keep the 512 MiB old generation with an 8 MiB semi-space, and bound the table cache', () => {
    const out = execFileSync(process.execPath, [
      ...SNAPSHOT_EXPORT_NODE_FLAGS,
      '-e',
      'console.log(require("v8").getHeapStatistics().heap_size_limit)',
    ]).toString()
    const mb = Number(out) / 2 ** 20
    expect(mb).toBeGreaterThanOrEqual(512)
    expect(mb).toBeLessThanOrEqual(512 + 32)
    // LevelDB's minimum: 64 table files open (mapped) at a time
    expect(SNAPSHOT_EXPORT_STORE_OPTIONS.maxOpenFiles).toBe(74)
  })
})
