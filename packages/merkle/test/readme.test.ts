import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readmeShowsExample } from '../../../test-utils/readme.js'
import { main } from '../examples/basic.js'

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..')

describe('[README]: example', () => {
  it('shows examples/basic.ts verbatim', () => {
    expect(readmeShowsExample(pkgDir, 'examples/basic.ts')).toBe(true)
  })
  it('runs', async () => {
    const out = await main()
    expect(out.slice(1)).toEqual([
      'revert restored root: true',
      'bob proven: 50',
      'carol absent: true',
      'alice after reopen: 100',
    ])
  })
})
