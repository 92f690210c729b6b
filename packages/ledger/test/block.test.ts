import { createStateTree } from '@aureon/merkle'
import { createMemoryStore } from '@aureon/storage'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  blockHash,
  decodeBlock,
  decodeHeader,
  decodeReceipt,
  encodeBlock,
  encodeHeader,
  encodeReceipt,
  transactionsRoot,
} from '../src/block.js'
import { bigintToBytes, rlpEncode } from '../src/codec.js'
import { isLedgerError } from '../src/errors.js'
import { EMPTY_TRIE_ROOT } from '../src/hash.js'
import { orderedTrieRoot, trieRoot } from '../src/trie-root.js'
import { encodeTransaction } from '../src/tx.js'
import type { BlockHeader, Receipt } from '../src/types.js'
import { key, transfer } from './helpers.js'

const alice = key(1)
const bob = key(2)
const header: BlockHeader = {
  chainId: 1n,
  height: 5n,
  parentHash: new Uint8Array(32).fill(1),
  timestamp: 1_700_000_000_000n,
  proposer: bob.address,
  stateRoot: new Uint8Array(32).fill(2),
  txRoot: new Uint8Array(32).fill(3),
  receiptsRoot: new Uint8Array(32).fill(4),
  gasUsed: 21_000n,
  gasLimit: 30_000_000n,
  consensus: Uint8Array.of(9, 9),
}
const receipt: Receipt = {
  txHash: new Uint8Array(32).fill(7),
  blockHeight: 5n,
  index: 0,
  status: 'Reverted',
  gasUsed: 30_000n,
  gasPrice: 2n,
  fee: 60_000n,
  output: Uint8Array.of(1),
  logs: [{ address: bob.address, topics: [new Uint8Array(32)], data: Uint8Array.of(3) }],
  debugLogs: ['line'],
  error: { code: 'ERR_REVERTED', message: 'nope' },
  contractAddress: alice.address,
  balanceChanges: [{ address: alice.address, balance: 5n }],
}

describe('[Block]: codec', () => {
  it('round-trips headers, blocks and receipts', () => {
    expect(decodeHeader(encodeHeader(header))).toEqual(header)
    const block = {
      header,
      transactions: [transfer(alice, bob.address, 0n), transfer(alice, bob.address, 1n)],
    }
    const back = decodeBlock(encodeBlock(block))
    expect(back.header).toEqual(header)
    expect(back.transactions.map(encodeTransaction)).toEqual(
      block.transactions.map(encodeTransaction),
    )
    expect(blockHash(back.header)).toEqual(blockHash(header))
    expect(decodeReceipt(encodeReceipt(receipt))).toEqual(receipt)
    const plain: Receipt = {
      ...receipt,
      status: 'Success',
      error: undefined,
      contractAddress: undefined,
    }
    delete plain.error
    delete plain.contractAddress
    expect(decodeReceipt(encodeReceipt(plain))).toEqual(plain)
    expect(() => encodeReceipt({ ...receipt, status: 'Nope' as Receipt['status'] })).toThrow()
    const badStatus = rlpEncode([
      receipt.txHash,
      bigintToBytes(5n),
      bigintToBytes(0n),
      bigintToBytes(9n),
      ...Array(9).fill(new Uint8Array(0)),
    ])
    expect(() => decodeReceipt(badStatus)).toThrow()
  })

  it('random bytes never crash the block and receipt decoders', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        for (const f of [decodeBlock, decodeHeader, decodeReceipt]) {
          try {
            f(b)
          } catch (e) {
            expect(isLedgerError(e)).toBe(true)
          }
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('a Transfer encodes in 130 bytes as docs/encoding.md shows', () => {
    const enc = encodeTransaction(transfer(alice, bob.address, 0n, 5n))
    expect(enc.length).toBe(130)
    expect([...enc.subarray(0, 9)]).toEqual([0xf8, 0x80, 0x80, 0x01, 0x80, 0x01, 0x82, 0x52, 0x08])
    expect(enc[9]).toBe(0x94)
    expect(enc[30]).toBe(0x05)
    expect(enc[31]).toBe(0xa0)
    expect([enc[64], enc[65]]).toEqual([0xb8, 0x40])
  })
})

describe('[trieRoot]: equals the Merkle Patricia trie', () => {
  it('matches a non-secure StateTree over the same entries', async () => {
    expect(orderedTrieRoot([])).toEqual(EMPTY_TRIE_ROOT)
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 60 }), { maxLength: 300 }),
        async (values) => {
          const tree = await createStateTree({ db: createMemoryStore(), secure: false })
          await tree.batch(
            values.map((v, i) => ({
              type: 'put' as const,
              key: rlpEncode(bigintToBytes(BigInt(i))),
              value: v,
            })),
          )
          expect(orderedTrieRoot(values)).toEqual(tree.root())
        },
      ),
      { numRuns: 30 },
    )
    // arbitrary keys, including prefixes of each other
    const entries: [Uint8Array, Uint8Array][] = [
      [Uint8Array.of(1), Uint8Array.of(1)],
      [Uint8Array.of(1, 2), Uint8Array.of(2)],
      [Uint8Array.of(1, 2, 3), new Uint8Array(40).fill(3)],
      [Uint8Array.of(2), new Uint8Array(0)],
    ]
    const tree = await createStateTree({ db: createMemoryStore(), secure: false })
    for (const [k, v] of entries) if (v.length) await tree.put(k, v)
    expect(trieRoot(entries)).toEqual(tree.root())
    expect(transactionsRoot([])).toEqual(EMPTY_TRIE_ROOT)
  })
})
