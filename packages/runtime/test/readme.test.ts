import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readmeShowsExample } from '../../../test-utils/readme.js'

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..')

describe('[README]: example', () => {
  it('shows examples/basic.ts verbatim, and the example runs', async () => {
    expect(readmeShowsExample(pkgDir, 'examples/basic.ts')).toBe(true)
    const mod = await import('../examples/basic.js')
    expect(mod.count).toBe(1n)
  })
})
