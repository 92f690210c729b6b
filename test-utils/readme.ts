import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Checks that a package README shows its example file verbatim, so the README's code is the code
 * the test suite runs. Returns the example's source.
 */
export function readmeShowsExample(pkgDir: string, example: string): boolean {
  const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8')
  const code = readFileSync(join(pkgDir, example), 'utf8').trim()
  return readme.includes(code)
}
