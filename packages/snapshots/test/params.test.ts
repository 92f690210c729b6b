import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import {
  SNAPSHOT_EXPORT_NODE_FLAGS,
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
        'console.log(require("v8").getHeapStatistics().heap_size_limit)',
      ],
      // the malloc settings must not stop the process from starting
      { env: { ...process.env, ...SNAPSHOT_PROCESS_ENV } },
    ).toString()
    const mb = Number(out) / 2 ** 20
    // 512 MiB old generation + 3 x 16 MiB young generation (semi-spaces and new large objects)
    expect(mb).toBeGreaterThanOrEqual(512)
    expect(mb).toBeLessThanOrEqual(512 + 64)
  })
})

describe('[SNAPSHOT_EXPORT_NODE_FLAGS]: the export process settings', () => {
  it('keep the 512 MiB old generation with an 8 MiB semi-space', () => {
    const out = execFileSync(process.execPath, [
      ...SNAPSHOT_EXPORT_NODE_FLAGS,
      '-e',
      'console.log(require("v8").getHeapStatistics().heap_size_limit)',
    ]).toString()
    const mb = Number(out) / 2 ** 20
    expect(mb).toBeGreaterThanOrEqual(512)
    expect(mb).toBeLessThanOrEqual(512 + 32)
  })
})
