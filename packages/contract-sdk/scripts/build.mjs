// Compiles the example AssemblyScript token with asc (--runtime stub, no floats) to dist/token.wasm.
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import asc from 'assemblyscript/asc'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
const root = join(pkg, '..', '..')
mkdirSync(join(pkg, 'dist'), { recursive: true })
const { error, stderr } = await asc.main([
  join(root, 'examples/contracts/token/assembly/index.ts'),
  '--outFile',
  join(pkg, 'dist/token.wasm'),
  '--textFile',
  join(pkg, 'dist/token.wat'),
  '--runtime',
  'stub',
  '--exportStart',
  '_initialize',
  '--optimizeLevel',
  '3',
  '--shrinkLevel',
  '1',
])
if (error) {
  console.error(stderr.toString())
  process.exit(1)
}
console.log('contract-sdk: built dist/token.wasm')
