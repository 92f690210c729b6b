import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, vi } from 'vitest'
import { readmeShowsExample } from '../../../test-utils/readme.js'

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..')

describe('[README]: example', () => {
  it('shows examples/basic.ts verbatim', () => {
    expect(readmeShowsExample(pkgDir, 'examples/basic.ts')).toBe(true)
  })

  it('runs examples/basic.ts', async () => {
    const lines: string[] = []
    const spy = vi.spyOn(console, 'log').mockImplementation((...a) => {
      lines.push(a.map(String).join(' '))
    })
    try {
      await import('../examples/basic.js')
    } finally {
      spy.mockRestore()
    }
    expect(lines[0]).toMatch(/^head #1 0x[0-9a-f]{64} with 0 txs$/)
    expect(lines[1]).toBe('error code: ERR_NOT_FOUND')
    expect(lines[2]).toBe('live blocks: 1')
  })
})
