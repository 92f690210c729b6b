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
    const spy = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      const { committed } = await import('../examples/basic.js')
      expect(committed).toBeGreaterThanOrEqual(5n)
      expect(spy.mock.calls[0][0]).toMatch(/^committed height \d+ in \d+ virtual ms$/)
    } finally {
      spy.mockRestore()
    }
  })
})
