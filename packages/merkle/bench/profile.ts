/** Profiles 1,000 updates + root on a 100k trie in memory (run with --cpu-prof). */
import { createMemoryStore } from '@aureon/storage'
import { createStateTree, createStateTreeFromEntries } from '../src/index.js'

const address = (i: number) => {
  const a = new Uint8Array(20)
  new DataView(a.buffer).setUint32(16, i)
  return a
}
const M = 100_000
const mem = createMemoryStore()
let t = performance.now()
const small = await createStateTreeFromEntries({
  db: mem,
  entries: Array.from({ length: M }, (_, i) => ({
    key: address(i),
    value: new Uint8Array(70).fill(i & 255),
  })),
})
console.log('build', (performance.now() - t).toFixed(0), 'ms')
const root = small.root()
await mem.batch(small.flush())
const tree = await createStateTree({ db: mem, root })
for (let r = 0; r < 6; r++) {
  await tree.setRoot(root)
  t = performance.now()
  const ops = []
  for (let j = 0; j < 1000; j++)
    ops.push({
      type: 'put' as const,
      key: address((j * 7919 + r * 13) % M),
      value: new Uint8Array(70).fill(r + 1),
    })
  await tree.batch(ops)
  tree.root()
  const f = tree.flush()
  await mem.batch(f)
  console.log('commit', (performance.now() - t).toFixed(0), 'ms', f.length, 'nodes')
}
