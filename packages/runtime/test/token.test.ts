import { createHash } from 'node:crypto'
import { addressFromPublicKey, ed25519 } from '@aureon/crypto'
import {
  type BlockEnv,
  createWorldState,
  emptyAccount,
  StateProcessor,
  signTransaction,
  TxKind,
  type UnsignedTransaction,
} from '@aureon/ledger'
import { createMemoryStore } from '@aureon/storage'
import { beforeAll, describe, expect, it } from 'vitest'
import { instrumentContract, WasmExecutor } from '../src/index.js'
import { compileAssemblyScript, readU64le, tokenSource, u64le } from './helpers.js'

const key = (n: number) => {
  const sk = new Uint8Array(32).fill(n)
  return { sk, address: addressFromPublicKey(ed25519.getPublicKey(sk)) }
}
const alice = key(11)
const bob = key(12)
const env: BlockEnv = {
  chainId: 1n,
  height: 1n,
  timestamp: 1_000n,
  proposer: new Uint8Array(20).fill(3),
  gasLimit: 30_000_000n,
}

describe('[token]: the AssemblyScript fungible token through the ledger', () => {
  let code: Uint8Array
  beforeAll(async () => {
    code = await compileAssemblyScript(tokenSource)
  })

  it('passes validation (AssemblyScript --runtime stub, no floats)', () => {
    const { info } = instrumentContract(code)
    expect(info.callable.sort()).toEqual([
      '_initialize',
      'balance_of',
      'init',
      'total_supply',
      'transfer',
    ])
    expect(info.imports).toContain('abort')
  })

  it('deploys, transfers with events, reads balances, reverts on overdraft', async () => {
    const state = await createWorldState({ db: createMemoryStore() })
    await state.putAccount(alice.address, { ...emptyAccount(), balance: 10_000_000n })
    const processor = new StateProcessor({ executor: new WasmExecutor() })
    const nonces = new Map<string, bigint>()
    const send = (from: typeof alice, fields: Record<string, unknown>) => {
      const k = Buffer.from(from.address).toString('hex')
      const nonce = nonces.get(k) ?? 0n
      nonces.set(k, nonce + 1n)
      const tx = signTransaction(
        {
          chainId: 1n,
          nonce,
          gasPrice: 1n,
          gasLimit: 3_000_000n,
          ...fields,
        } as UnsignedTransaction,
        from.sk,
      )
      return processor.applyTransaction(state, tx, env, 0)
    }
    const deploy = await send(alice, {
      kind: TxKind.ContractDeploy,
      code,
      args: u64le(1_000n),
      value: 0n,
    })
    expect(deploy.status, deploy.error?.message).toBe('Success')
    expect(deploy.logs).toHaveLength(1)
    const token = deploy.contractAddress!
    const call = (from: typeof alice, fn: string, args: Uint8Array) =>
      send(from, { kind: TxKind.ContractCall, contract: token, function: fn, args, value: 0n })

    const args = new Uint8Array(28)
    args.set(bob.address)
    args.set(u64le(250n), 20)
    const t = await call(alice, 'transfer', args)
    expect(t.status, t.error?.message).toBe('Success')
    expect(t.logs).toHaveLength(1)
    const ev = t.logs[0]
    expect(Buffer.from(ev.address)).toEqual(Buffer.from(token))
    expect(Buffer.from(ev.topics[0])).toEqual(
      createHash('sha256').update('Transfer(address,address,u64)').digest(),
    )
    expect(Buffer.from(ev.topics[1].subarray(12))).toEqual(Buffer.from(alice.address))
    expect(Buffer.from(ev.topics[2].subarray(12))).toEqual(Buffer.from(bob.address))
    expect(readU64le(ev.data)).toBe(250n)

    expect(readU64le((await call(alice, 'balance_of', alice.address)).output)).toBe(750n)
    expect(readU64le((await call(alice, 'balance_of', bob.address)).output)).toBe(250n)
    expect(readU64le((await call(alice, 'total_supply', new Uint8Array())).output)).toBe(1_000n)

    await state.putAccount(bob.address, { ...emptyAccount(), balance: 10_000_000n })
    args.set(alice.address)
    args.set(u64le(251n), 20)
    const over = await call(bob, 'transfer', args)
    expect(over.status).toBe('Reverted')
    expect(over.error?.message).toMatch(/insufficient token balance/)
    expect(over.logs).toEqual([])
    const bad = await call(bob, 'transfer', new Uint8Array(3))
    expect(bad.status).toBe('Reverted')
    expect(readU64le((await call(alice, 'balance_of', bob.address)).output)).toBe(250n)
  })
})
