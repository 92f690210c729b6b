import { addressFromPublicKey, ed25519 } from '@aureon/crypto'
import {
  type BlockEnv,
  contractAddress,
  createWorldState,
  emptyAccount,
  type LedgerWorldState,
  StateProcessor,
  signTransaction,
  TxKind,
  type UnsignedTransaction,
} from '@aureon/ledger'
import { createMemoryStore } from '@aureon/storage'
import { beforeAll, describe, expect, it } from 'vitest'
import { deriveContractAddress, RuntimeErrorCode, WasmExecutor } from '../src/index.js'
import { exampleContract, readU64le, u64le, wat } from './helpers.js'

const sk = new Uint8Array(32).fill(5)
const pk = ed25519.getPublicKey(sk)
const alice = addressFromPublicKey(pk)
const proposer = new Uint8Array(20).fill(9)
const env: BlockEnv = {
  chainId: 1n,
  height: 3n,
  timestamp: 5_000n,
  proposer,
  gasLimit: 30_000_000n,
}

describe('[WasmExecutor]: through the ledger StateProcessor', () => {
  let state: LedgerWorldState
  const executor = new WasmExecutor()
  const processor = new StateProcessor({ executor })
  let nonce = 0n
  const send = async (
    fields: Partial<UnsignedTransaction> & { kind: number },
    gasLimit = 2_000_000n,
  ) => {
    const tx = signTransaction(
      { chainId: 1n, nonce: nonce++, gasPrice: 1n, gasLimit, ...fields } as UnsignedTransaction,
      sk,
    )
    return processor.applyTransaction(state, tx, env, 0)
  }

  beforeAll(async () => {
    state = await createWorldState({ db: createMemoryStore() })
    await state.putAccount(alice, { ...emptyAccount(), balance: 100_000_000n })
  })

  it('deploys the counter and calls it', async () => {
    const code = await exampleContract('counter.wat')
    const d = await send({ kind: TxKind.ContractDeploy, code, args: u64le(41n), value: 1000n })
    expect(d.status, d.error?.message).toBe('Success')
    expect(Buffer.from(d.contractAddress!)).toEqual(Buffer.from(contractAddress(alice, 0n)))
    expect(Buffer.from(deriveContractAddress(alice, 0n))).toEqual(Buffer.from(d.contractAddress!))
    expect((await state.getAccount(d.contractAddress!)).balance).toBe(1000n)
    const c = await send({
      kind: TxKind.ContractCall,
      contract: d.contractAddress!,
      function: 'increment',
      args: new Uint8Array(),
      value: 0n,
    })
    expect(c.status).toBe('Success')
    expect(readU64le(c.output)).toBe(42n)
    const bal = await send({
      kind: TxKind.ContractCall,
      contract: d.contractAddress!,
      function: 'check_balance',
      args: new Uint8Array(),
      value: 5n,
    })
    expect(readU64le(bal.output.subarray(0, 8))).toBe(1005n)
    const sim = await executor.simulate(
      {
        state,
        sender: alice,
        senderNonce: nonce,
        blockHeight: 4n,
        blockTimestamp: 6_000n,
        gasLimit: 1_000_000n,
        txHash: new Uint8Array(32),
        chainId: 1n,
        gasPrice: 1n,
        proposer,
      },
      { contract: d.contractAddress!, function: 'increment', args: new Uint8Array(), value: 0n },
    )
    expect(readU64le(sim.output)).toBe(43n)
    const again = await send({
      kind: TxKind.ContractCall,
      contract: d.contractAddress!,
      function: 'increment',
      args: new Uint8Array(),
      value: 0n,
    })
    expect(readU64le(again.output)).toBe(43n)
  })

  it('gives receipts for refused code, out of gas and reverts', async () => {
    const float = await wat(
      `(module (memory (export "memory") 1) (func (export "f") (drop (f32.const 1))))`,
    )
    const refused = await send({
      kind: TxKind.ContractDeploy,
      code: float,
      args: new Uint8Array(),
      value: 0n,
    })
    expect(refused.status).toBe('Failed')
    expect(refused.error?.code).toBe(RuntimeErrorCode.FLOAT)
    expect(refused.contractAddress).toBeUndefined()
    const spin = await wat(
      `(module (memory (export "memory") 1) (func (export "init") (loop $l (br $l))))`,
    )
    const oog = await send(
      { kind: TxKind.ContractDeploy, code: spin, args: new Uint8Array(), value: 0n },
      300_000n,
    )
    expect(oog.status).toBe('OutOfGas')
    expect(oog.gasUsed).toBe(300_000n)
    expect(oog.fee).toBe(300_000n)
  })
})
