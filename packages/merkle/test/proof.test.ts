import { createMemoryStore } from '@aureon/storage'
import { describe, expect, it } from 'vitest'
import {
  createStateTree,
  EMPTY_TRIE_ROOT,
  isMerkleError,
  keccak256,
  verifyProof,
  verifyRangeProof,
} from '../src/index.js'
import { utf8 } from './helpers.js'

const k = (i: number) => utf8(`account-${i}`)
const v = (i: number) => utf8(`balance-${i}-${'y'.repeat(i % 50)}`)

async function filled(n: number) {
  const tree = await createStateTree({ db: createMemoryStore() })
  await tree.batch(Array.from({ length: n }, (_, i) => ({ type: 'put', key: k(i), value: v(i) })))
  return tree
}

describe('[StateTree]: proofs', () => {
  it('proves inclusion and absence', async () => {
    const tree = await filled(200)
    const root = tree.root()
    for (const i of [0, 7, 199]) {
      const proof = await tree.createProof(k(i))
      expect(await verifyProof({ root, key: k(i), proof })).toEqual(v(i))
    }
    const absent = await tree.createProof(k(1000))
    expect(await verifyProof({ root, key: k(1000), proof: absent })).toBeUndefined()
  })

  it('proves absence in the empty trie', async () => {
    const tree = await createStateTree({ db: createMemoryStore() })
    const proof = await tree.createProof(k(1))
    expect(await verifyProof({ root: EMPTY_TRIE_ROOT, key: k(1), proof })).toBeUndefined()
  })

  it('works for a plain (non-secure) trie', async () => {
    const tree = await createStateTree({ db: createMemoryStore(), secure: false })
    await tree.put(utf8('doge'), utf8('coin'))
    await tree.put(utf8('dog'), utf8('puppy'))
    const proof = await tree.createProof(utf8('dog'))
    expect(
      await verifyProof({ root: tree.root(), key: utf8('dog'), proof, secure: false }),
    ).toEqual(utf8('puppy'))
  })

  it('rejects a proof for another root, a tampered proof, and garbage', async () => {
    const tree = await filled(100)
    const proof = await tree.createProof(k(3))
    const other = await filled(101)
    await expect(verifyProof({ root: other.root(), key: k(3), proof })).rejects.toSatisfy((e) =>
      isMerkleError(e, 'ERR_INVALID_PROOF'),
    )
    const bad = proof.map((n) => n.slice())
    bad[bad.length - 1][bad[bad.length - 1].length - 1] ^= 1
    await expect(verifyProof({ root: tree.root(), key: k(3), proof: bad })).rejects.toMatchObject({
      code: 'ERR_INVALID_PROOF',
    })
    await expect(
      verifyProof({ root: tree.root(), key: k(3), proof: proof.slice(0, 1) }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_PROOF' })
    await expect(
      verifyProof({ root: tree.root(), key: k(3), proof: ['x'] as never }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_PROOF' })
    await expect(verifyProof({ root: new Uint8Array(2), key: k(3), proof })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
  })
})

describe('[StateTree]: range proofs', () => {
  it('proves contiguous runs of leaves, chunk after chunk, to the end', async () => {
    const tree = await filled(500)
    const root = tree.root()
    let start = new Uint8Array(32)
    let total = 0
    for (;;) {
      const rp = await tree.createRangeProof({ startKeyHash: start, limit: 64 })
      const { hasMore } = await verifyRangeProof({ root, ...rp })
      total += rp.keys.length
      if (!hasMore) break
      const last = rp.keys[rp.keys.length - 1]
      start = new Uint8Array(
        Buffer.from(
          (BigInt(`0x${Buffer.from(last).toString('hex')}`) + 1n).toString(16).padStart(64, '0'),
          'hex',
        ),
      )
    }
    expect(total).toBe(500)
  })

  it('bounds a range by endKeyHash and proves an empty range', async () => {
    const tree = await filled(50)
    const root = tree.root()
    const all = []
    for await (const e of tree.entries()) all.push(e.keyHash)
    const rp = await tree.createRangeProof({ startKeyHash: all[10], endKeyHash: all[19] })
    expect(rp.keys.length).toBe(10)
    expect((await verifyRangeProof({ root, ...rp })).hasMore).toBe(true)
    const tail = await tree.createRangeProof({ startKeyHash: new Uint8Array(32).fill(0xff) })
    expect(tail.keys).toEqual([])
    expect((await verifyRangeProof({ root, ...tail })).hasMore).toBe(false)
  })

  it('rejects a run with a leaf dropped, changed or from another root', async () => {
    const tree = await filled(200)
    const root = tree.root()
    const rp = await tree.createRangeProof({ startKeyHash: keccak256(k(0)), limit: 20 })
    const dropped = { ...rp, keys: [...rp.keys], values: [...rp.values] }
    dropped.keys.splice(5, 1)
    dropped.values.splice(5, 1)
    await expect(verifyRangeProof({ root, ...dropped })).rejects.toSatisfy((e) =>
      isMerkleError(e, 'ERR_INVALID_RANGE_PROOF'),
    )
    const changed = { ...rp, values: rp.values.map((x, i) => (i === 3 ? utf8('evil') : x)) }
    await expect(verifyRangeProof({ root, ...changed })).rejects.toMatchObject({
      code: 'ERR_INVALID_RANGE_PROOF',
    })
    const other = await filled(201)
    await expect(verifyRangeProof({ root: other.root(), ...rp })).rejects.toMatchObject({
      code: 'ERR_INVALID_RANGE_PROOF',
    })
  })
})
