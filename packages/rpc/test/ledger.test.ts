import { addressFromPublicKey, ed25519 } from '@aureon/crypto'
import {
  decodeAccount,
  encodeTransaction,
  signTransaction,
  TxKind,
  transactionHash,
  type UnsignedTransaction,
} from '@aureon/ledger'
import { verifyProof } from '@aureon/merkle'
import { WasmExecutor } from '@aureon/runtime'
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

/**
 * A hand-assembled contract: imports env.return_data and env.storage_write; exports memory,
 * get() (returns "hi") and set() (stores key "h" = "i").
 */
const CONTRACT = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  // types: (i32,i32)->(), (i32,i32,i32,i32)->i32, ()->()
  0x01,
  0x11,
  0x03,
  0x60,
  0x02,
  0x7f,
  0x7f,
  0x00,
  0x60,
  0x04,
  0x7f,
  0x7f,
  0x7f,
  0x7f,
  0x01,
  0x7f,
  0x60,
  0x00,
  0x00,
  // imports
  0x02,
  0x27,
  0x02,
  0x03,
  0x65,
  0x6e,
  0x76,
  0x0b,
  ...Buffer.from('return_data'),
  0x00,
  0x00,
  0x03,
  0x65,
  0x6e,
  0x76,
  0x0d,
  ...Buffer.from('storage_write'),
  0x00,
  0x01,
  // functions: two of type 2
  0x03,
  0x03,
  0x02,
  0x02,
  0x02,
  // memory: 1 page
  0x05,
  0x03,
  0x01,
  0x00,
  0x01,
  // exports: memory, get, set
  0x07,
  0x16,
  0x03,
  0x06,
  ...Buffer.from('memory'),
  0x02,
  0x00,
  0x03,
  ...Buffer.from('get'),
  0x00,
  0x02,
  0x03,
  ...Buffer.from('set'),
  0x00,
  0x03,
  // code
  0x0a,
  0x18,
  0x02,
  0x08,
  0x00,
  0x41,
  0x00,
  0x41,
  0x02,
  0x10,
  0x00,
  0x0b,
  0x0d,
  0x00,
  0x41,
  0x00,
  0x41,
  0x01,
  0x41,
  0x01,
  0x41,
  0x01,
  0x10,
  0x01,
  0x1a,
  0x0b,
  // data: "hi" at 0
  0x0b,
  0x08,
  0x01,
  0x00,
  0x41,
  0x00,
  0x0b,
  0x02,
  0x68,
  0x69,
])

describe('[RPC]: contracts over the real ledger and runtime (WasmExecutor)', () => {
  let backend: LedgerBackend
  let server: RPCServer
  let client: RPCClient
  beforeAll(async () => {
    backend = await createLedgerBackend(
      {
        chainId: 7,
        timestamp: 1_700_000_000_000,
        balances: { [hex(alice)]: '1000000000' },
        validators: [],
        consensus: { engine: 'dev' },
      },
      new WasmExecutor(),
    )
    server = await createRPCServer({ backend, port: 0, rateLimit: false })
    client = createClient({ url: await server.listen() })
  })
  afterAll(() => server.close())

  it('deploys, describes, simulates and reads storage of a contract', async () => {
    const deploy = signTransaction(
      {
        kind: TxKind.ContractDeploy,
        chainId: 7n,
        nonce: 0n,
        gasPrice: 1n,
        gasLimit: 2_000_000n,
        code: CONTRACT,
        args: new Uint8Array(),
        value: 0n,
      },
      sk,
    )
    const sent = await client.deployContract({ tx: hex(encodeTransaction(deploy)) })
    await expect(client.getContract({ address: sent.contractAddress })).rejects.toMatchObject({
      status: 404,
    })
    await backend.produceBlock()
    const t = await client.getTx({ hash: sent.hash })
    expect(t.receipt?.status, JSON.stringify(t.receipt?.error)).toBe('Success')
    expect(t.receipt?.contractAddress).toBe(sent.contractAddress)
    const info = await client.getContract({ address: sent.contractAddress })
    // the runtime stores the gas-instrumented module, so the stored code is larger than the deploy's
    expect(info.codeSize).toBeGreaterThanOrEqual(CONTRACT.length)
    expect(info).toMatchObject({
      exports: ['get', 'set'],
      deployer: hex(alice),
      deployHeight: 1,
      deployTx: sent.hash,
    })
    expect((await client.getAccount({ address: sent.contractAddress })).isContract).toBe(true)
    const sim = await client.callContract({ contract: sent.contractAddress, function: 'get' })
    expect(sim.status).toBe('Success')
    expect(Buffer.from(sim.output.slice(2), 'hex').toString()).toBe('hi')
    expect(BigInt(sim.gasUsed)).toBeGreaterThan(0n)
    // a simulated set() changes nothing
    expect(
      (await client.callContract({ contract: sent.contractAddress, function: 'set' })).status,
    ).toBe('Success')
    expect(
      (await client.getContractStorage({ address: sent.contractAddress, key: '0x68' })).value,
    ).toBeNull()
    const missing = await client.callContract({ contract: sent.contractAddress, function: 'nope' })
    expect(missing.status).not.toBe('Success')
    expect(missing.error?.code).toMatch(/^ERR_/)
    // a real set() transaction does
    const logs: unknown[] = []
    const set = signTransaction(
      {
        kind: TxKind.ContractCall,
        chainId: 7n,
        nonce: 1n,
        gasPrice: 1n,
        gasLimit: 500_000n,
        contract: hexToBytes(sent.contractAddress),
        function: 'set',
        args: new Uint8Array(),
        value: 0n,
      },
      sk,
    )
    const sub = client.subscribe(`tx_status:${hex(transactionHash(set))}`, (e) => logs.push(e))
    await sub.ready
    await client.sendTx({ tx: hex(encodeTransaction(set)) })
    await backend.produceBlock()
    expect(
      (await client.getContractStorage({ address: sent.contractAddress, key: '0x68' })).value,
    ).toBe('0x69')
    await expect.poll(() => logs.map((l: any) => l.status)).toContain('included')
    sub.close()
  })
})

function hexToBytes(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h.slice(2), 'hex'))
}
