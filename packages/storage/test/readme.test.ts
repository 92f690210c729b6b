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
    expect(await main()).toEqual(['head = 0002', '0002: block 2', '0001: block 1'])
  })
})
