import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// Copies of ../shared/vectors (public test vectors, each file names its source).
const dir = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures')

/** Reads a vector file from test/fixtures. */
export function loadVectors<T = any>(name: string): T {
  return JSON.parse(readFileSync(resolve(dir, name), 'utf8')) as T
}
