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
    const logs: string[] = []
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      logs.push(a.map(String).join(' '))
    })
    try {
      await import('../examples/basic.js')
    } finally {
      spy.mockRestore()
    }
    expect(logs.some((l) => l.startsWith('snapshot: 1 chunk(s), 2 accounts'))).toBe(true)
    expect(logs.at(-1)).toBe('storage value: 42')
  })
})
