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
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      lines.push(a.map(String).join(' '))
    })
    try {
      await import('../examples/basic.js')
    } finally {
      spy.mockRestore()
    }
    expect(lines.some((l) => l.startsWith('gossiped tx: 1,2,3'))).toBe(true)
    expect(lines.some((l) => l.startsWith('blocks from a: 5'))).toBe(true)
  })
})
