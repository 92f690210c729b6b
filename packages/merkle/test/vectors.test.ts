import { createMemoryStore } from '@aureon/storage'
import { describe, expect, it } from 'vitest'
import { createStateTree } from '../src/index.js'
import { hex, loadVectors, utf8, vectorBytes } from './helpers.js'

const files: [string, boolean][] = [
  ['trie-trietest.json', false],
  ['trie-trietest_secureTrie.json', true],
  ['trie-trieanyorder.json', false],
  ['trie-trieanyorder_secureTrie.json', true],
  ['trie-hex_encoded_securetrie_test.json', true],
]

describe('[StateTree]: Ethereum trie test vectors', () => {
  for (const [file, secure] of files) {
    for (const v of loadVectors(file).vectors) {
      it(`${file} ${v.name}`, async () => {
        const tree = await createStateTree({ db: createMemoryStore(), secure })
        const ops: [string, string | null][] = Array.isArray(v.in) ? v.in : Object.entries(v.in)
        for (const [k, val] of ops) {
          const value = vectorBytes(val)
          if (value === null || value.length === 0) await tree.del(vectorBytes(k)!)
          else await tree.put(vectorBytes(k)!, value)
        }
        expect(hex(tree.root())).toBe(v.root)
        // the same ops as one batch give the same root
        const t2 = await createStateTree({ db: createMemoryStore(), secure })
        await t2.batch(
          ops.map(([k, val]) => ({
            type: 'put',
            key: vectorBytes(k)!,
            value: vectorBytes(val) ?? new Uint8Array(),
          })),
        )
        expect(hex(t2.root())).toBe(v.root)
      })
    }
  }

  for (const v of loadVectors('trie-trietestnextprev.json').vectors) {
    it(`trie-trietestnextprev.json ${v.name} (ordered iteration)`, async () => {
      const tree = await createStateTree({ db: createMemoryStore(), secure: false })
      for (const k of v.in as string[]) await tree.put(utf8(k), utf8(k))
      const all: string[] = []
      for await (const e of tree.entries()) all.push(Buffer.from(e.keyHash).toString())
      expect(all).toEqual([...(v.in as string[])].sort())
      for (const [key, prev, next] of v.tests as [string, string, string][]) {
        let gotNext = ''
        for await (const e of tree.entries({ startKeyHash: utf8(key), limit: 2 })) {
          const k = Buffer.from(e.keyHash).toString()
          if (k !== key) {
            gotNext = k
            break
          }
        }
        expect(gotNext).toBe(next)
        expect(all.filter((k) => k < key).pop() ?? '').toBe(prev)
      }
    })
  }
})
