import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, vi } from 'vitest'
import { readmeShowsExample } from '../../../test-utils/readme.js'

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..')

describe('[README]: example', () => {
  it('runs examples/basic.ts and the README shows it verbatim', async () => {
    const lines: string[] = []
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      lines.push(a.map(String).join(' '))
    })
    try {
      await import('../examples/basic.js')
    } finally {
      spy.mockRestore()
    }
    expect(lines).toEqual(['height 1 status Success fee 21000', 'bob has 500'])
    expect(readmeShowsExample(pkgDir, 'examples/basic.ts')).toBe(true)
  })
})
