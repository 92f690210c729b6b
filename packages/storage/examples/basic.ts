import { createMemoryStore, type KVStore } from '@aureon/storage'

const utf8 = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

// Any KVStore works the same; on disk use `await openLevelStore({ path: './data' })`.
export async function main(store: KVStore = createMemoryStore()): Promise<string[]> {
  const blocks = store.namespace('blocks')
  // One atomic write across namespaces: the head moves together with the block.
  await store.batch([
    { type: 'put', namespace: ['blocks'], key: utf8('0001'), value: utf8('block 1') },
    { type: 'put', namespace: ['blocks'], key: utf8('0002'), value: utf8('block 2') },
    { type: 'put', key: utf8('head'), value: utf8('0002') },
  ])
  const lines = [`head = ${text((await store.get(utf8('head')))!)}`]
  // Ordered iteration with a range, newest first.
  for await (const [key, value] of blocks.iterate({ gte: utf8('0001'), reverse: true })) {
    lines.push(`${text(key)}: ${text(value)}`)
  }
  await store.close()
  return lines
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await main()).join('\n'))
