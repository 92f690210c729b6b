import { BranchMPTNode, ExtensionMPTNode, LeafMPTNode } from '@ethereumjs/mpt'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { serialize } from '../src/batch.js'
import { encodeRLP } from '../src/index.js'
import { decodeNodeRLP } from '../src/rlp.js'
import { hex } from './helpers.js'

const bytes = (n: number, fill = 0xab) => new Uint8Array(n).fill(fill)

describe('[encodeRLP]: Ethereum RLP', () => {
  it('encodes the spec examples and every length class', () => {
    expect(hex(encodeRLP(new Uint8Array()))).toBe('0x80')
    expect(hex(encodeRLP(null))).toBe('0x80')
    expect(hex(encodeRLP(undefined))).toBe('0x80')
    expect(hex(encodeRLP(new Uint8Array([0x7f])))).toBe('0x7f')
    expect(hex(encodeRLP(new Uint8Array([0x80])))).toBe('0x8180')
    expect(hex(encodeRLP(new TextEncoder().encode('dog')))).toBe('0x83646f67')
    expect(hex(encodeRLP([]))).toBe('0xc0')
    // [ [], [[]], [ [], [[]] ] ]
    expect(hex(encodeRLP([[], [[]], [[], [[]]]]))).toBe('0xc7c0c1c0c3c0c1c0')
    expect(hex(encodeRLP(bytes(55))).slice(0, 4)).toBe('0xb7')
    expect(hex(encodeRLP(bytes(56))).slice(0, 6)).toBe('0xb838')
    expect(hex(encodeRLP(bytes(256))).slice(0, 8)).toBe('0xb90100')
    expect(hex(encodeRLP(bytes(70_000))).slice(0, 10)).toBe('0xba011170')
    expect(encodeRLP(bytes(70_000)).length).toBe(70_004)
    expect(hex(encodeRLP([bytes(54)])).slice(0, 6)).toBe('0xf7b6')
    expect(hex(encodeRLP([bytes(55)])).slice(0, 8)).toBe('0xf838b7')
    expect(hex(encodeRLP([bytes(300)])).slice(0, 8)).toBe('0xf9012f')
    expect(() => encodeRLP(5 as never)).toThrow(/invalid RLP input/)
  })

  it('gives the bytes of mpt serialize() for random nodes (property)', () => {
    const nib = fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 64 })
    const val = fc.uint8Array({ minLength: 0, maxLength: 120 })
    const ref = fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.tuple(fc.uint8Array({ maxLength: 3 }), fc.uint8Array({ maxLength: 20 })),
    )
    fc.assert(
      fc.property(
        nib,
        val,
        ref,
        fc.array(fc.option(ref, { nil: null }), { minLength: 16, maxLength: 16 }),
        (key, value, child, children) => {
          const leaf = new LeafMPTNode(key, value)
          expect(hex(serialize(leaf))).toBe(hex(leaf.serialize()))
          const ext = new ExtensionMPTNode(key, child as Uint8Array)
          expect(hex(serialize(ext))).toBe(hex(ext.serialize()))
          const branch = new BranchMPTNode()
          children.forEach((c, i) => {
            if (c !== null) branch.setBranch(i, c as Uint8Array)
          })
          if (value.length > 0) branch.value(value)
          expect(hex(serialize(branch))).toBe(hex(branch.serialize()))
          // decoding gives back the items (re-encoding them gives the same bytes)
          for (const n of [leaf, ext, branch]) {
            const enc = serialize(n)
            expect(hex(encodeRLP(decodeNodeRLP(enc)))).toBe(hex(enc))
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('refuses malformed node encodings', () => {
    const bad = [
      '', // nothing
      '83646f67', // a string, not a list
      'c2', // list longer than the input
      'c283', // item longer than its list
      'c0c0', // trailing bytes
      'f90200', // long list, missing payload
      'c3b90100', // long string cut short
    ]
    for (const h of bad) {
      expect(() => decodeNodeRLP(Buffer.from(h, 'hex')), h).toThrow(/invalid trie node encoding/)
    }
    const long = encodeRLP([new Uint8Array(60).fill(1), [new Uint8Array([5])]])
    expect(hex(encodeRLP(decodeNodeRLP(long)))).toBe(hex(long))
  })
})
