import { readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { readmeShowsExample } from '../../../test-utils/readme.js'
import { main } from '../examples/basic.js'

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..')

describe('[README]: example', () => {
  afterAll(() => {
    for (const f of readdirSync(tmpdir())) {
      if (f.startsWith(`aureon-example-${process.pid}-`)) rmSync(join(tmpdir(), f))
    }
  })
  it('shows examples/basic.ts verbatim', () => {
    expect(readmeShowsExample(pkgDir, 'examples/basic.ts')).toBe(true)
  })
  it('runs examples/basic.ts', async () => {
    const spy = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      const out = await main()
      expect(out[0]).toMatch(/^address: 0x[0-9a-f]{40}$/)
      expect(out.slice(1, 5)).toEqual([
        'ed25519 valid: true',
        'vrf valid: true, beta is 64 bytes',
        'quorum certificate valid: true',
        'batch valid: false, invalid: 13',
      ])
      expect(out[5]).toMatch(
        /^key file: \{"type":"ed25519","publicKey":"0x[0-9a-f]{64}","address":"0x[0-9a-f]{40}"\}$/,
      )
    } finally {
      spy.mockRestore()
    }
  })
})
