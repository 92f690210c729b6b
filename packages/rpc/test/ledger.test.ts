import { addressFromPublicKey, ed25519 } from '@aureon/crypto'
import {
  decodeAccount,
  encodeTransaction,
  signTransaction,
  TxKind,
  type UnsignedTransaction,
} from '@aureon/ledger'
import { verifyProof } from '@aureon/merkle'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, type RPCClient } from '../src/client.js'
import { createRPCServer, type RPCServer } from '../src/server.js'
import { createLedgerBackend, type LedgerBackend } from './ledger-backend.js'

const hex = (b: Uint8Array) => '0x' + Buffer.from(b).toString('hex')
const sk = new Uint8Array(32).fill(3)
const pk = ed25519.getPublicKey(sk)
const alice = addressFromPublicKey(pk)
const bob = new Uint8Array(20).fill(0xb0)

function transfer(nonce: bigint, amount: bigint, over: Partial<UnsignedTransaction> = {}) {
  const u = {
    kind: TxKind.Transfer,
    chainId: 7n,
    nonce,
    gasPrice: 1n,
    gasLimit: 21_000n,
    to: bob,
    amount,
    ...over,
  } as UnsignedTransaction
  return signTransaction(u, sk)
}

describe('[RPC]: over the real ledger (ChainStore, TxPool, StateProcessor, MemoryStore)', () => {
  let backend: LedgerBackend
  let server: RPCServer
  let client: RPCClient
  beforeAll(async () => {
    backend = await createLedgerBackend({
      chainId: 7,
      timestamp: 1_700_000_000_000,
      balances: { [hex(alice)]: '1000000000' },
      validators: [],
      consensus: { engine: 'dev' },
    })
    server = await createRPCServer({ backend, port: 0, rateLimit: false })
    client = createClient({ url: await server.listen() })
  })
  afterAll(() => server.close())

  it('serves genesis as head', async () => {
    const head = await client.getHead()
    expect(head).toMatchObject({ height: 0, chainId: '7', timestamp: 1_700_000_000_000 })
    const acct = await client.getAccount({ address: hex(alice) })
    expect(acct).toMatchObject({ balance: '1000000000', nonce: '0', isContract: false })
  })

  it('sends a signed transfer, includes it in a block, and reports it everywhere', async () => {
    const tx = transfer(0n, 500n)
    const events: any[] = []
    const sub = client.subscribe('new_blocks', (b) => events.push(b))
    await sub.ready
    const sent = await client.sendTx({ tx: hex(encodeTransaction(tx)) })
    expect(sent.status).toBe('pending')
    const pending = await client.getTx({ hash: sent.hash })
    expect(pending).toMatchObject({
      status: 'pending',
      tx: { from: hex(alice), to: hex(bob), amount: '500', kind: 'transfer' },
    })
    const block = await backend.produceBlock()
    expect(block.transactions.length).toBe(1)
    const t = await client.getTx({ hash: sent.hash })
    expect(t).toMatchObject({
      status: 'included',
      blockHeight: 1,
      index: 0,
      blockHash: hex(block.hash),
    })
    expect(t.receipt).toMatchObject({ status: 'Success', gasUsed: '21000', fee: '21000' })
    const b = await client.getBlock({ id: 1, txs: 'full' })
    expect(b.hash).toBe(hex(block.hash))
    expect((await client.getBlock({ id: b.hash })).transactions).toEqual([sent.hash])
    expect((await client.getAccount({ address: hex(bob) })).balance).toBe('500')
    expect((await client.getAccount({ address: hex(alice) })).nonce).toBe('1')
    await expect.poll(() => events.map((e) => e.height)).toEqual([1])
    sub.close()
  })

  it("returns the real pool's coded refusals", async () => {
    await expect(
      client.sendTx({ tx: hex(encodeTransaction(transfer(0n, 1n))) }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'ERR_NONCE_TOO_LOW',
    })
    const bad = transfer(1n, 1n)
    bad.signature = new Uint8Array(64).fill(1)
    await expect(client.sendTx({ tx: hex(encodeTransaction(bad)) })).rejects.toMatchObject({
      code: 'ERR_BAD_SIGNATURE',
    })
    await expect(
      client.sendTx({ tx: hex(encodeTransaction(transfer(1n, 1n, { chainId: 8n }))) }),
    ).rejects.toMatchObject({
      code: 'ERR_WRONG_CHAIN_ID',
    })
    await expect(client.sendTx({ tx: '0xc0' })).rejects.toMatchObject({
      status: 400,
      code: expect.stringMatching(/^ERR_/),
    })
    await expect(
      client.sendTx({ tx: hex(encodeTransaction(transfer(1n, 10n ** 12n))) }),
    ).rejects.toMatchObject({
      code: 'ERR_INSUFFICIENT_BALANCE',
    })
  })

  it('proves an account against the head state root', async () => {
    const p = await client.getAccountProof({ address: hex(bob) })
    const head = await client.getHead()
    expect(p.stateRoot).toBe(head.stateRoot)
    expect(p.exists).toBe(true)
    const toBytes = (h: string) => new Uint8Array(Buffer.from(h.slice(2), 'hex'))
    const value = await verifyProof({
      root: toBytes(p.stateRoot),
      key: bob,
      proof: p.proof.map(toBytes),
    })
    expect(value && decodeAccount(value).balance).toBe(500n)
    const absent = await client.getAccountProof({ address: hex(new Uint8Array(20).fill(0x99)) })
    expect(absent.exists).toBe(false)
    expect(
      await verifyProof({
        root: toBytes(absent.stateRoot),
        key: new Uint8Array(20).fill(0x99),
        proof: absent.proof.map(toBytes),
      }),
    ).toBeUndefined()
  })

  it('estimates intrinsic gas, lists validators, and 404s unknown contracts', async () => {
    expect(
      (await client.estimateTx({ from: hex(alice), kind: 'transfer', to: hex(bob), amount: '1' }))
        .gas,
    ).toBe('21000')
    expect((await client.getValidators()).validators).toEqual([])
    await expect(client.getContract({ address: hex(bob) })).rejects.toMatchObject({ status: 404 })
    await expect(client.callContract({ contract: hex(bob), function: 'x' })).rejects.toMatchObject({
      status: 404,
    })
  })
})
