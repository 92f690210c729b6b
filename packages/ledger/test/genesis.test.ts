import { bls } from '@aureon/crypto'
import { createMemoryStore } from '@aureon/storage'
import { describe, expect, it } from 'vitest'
import { createGenesis, genesisParams } from '../src/genesis.js'
import type { GenesisConfig } from '../src/types.js'
import { key } from './helpers.js'

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`
const v1 = key(1)
const v2 = key(2)
const blsPk = (i: number) => bls.getPublicKey(new Uint8Array(32).fill(i))

const config: GenesisConfig = {
  chainId: '7',
  timestamp: 1_700_000_000_000,
  balances: { [hex(key(5).address)]: '1000', [hex(key(6).address)]: 5 },
  validators: [
    { publicKey: hex(v1.pk), blsPublicKey: hex(blsPk(1)), stake: '100', balance: '7' },
    { publicKey: hex(v2.pk), blsPublicKey: hex(blsPk(2)), stake: 300 },
  ],
  consensus: { engine: 'bft', epochLength: 10 },
  params: { unbondingPeriod: '50' },
}

describe('[Genesis]: from genesis.json', () => {
  it('is deterministic whatever the key order, and records the validator set', async () => {
    const a = await createGenesis({ config, db: createMemoryStore() })
    const reordered: GenesisConfig = {
      ...config,
      balances: Object.fromEntries(Object.entries(config.balances).reverse()),
      validators: [...config.validators].reverse(),
    }
    const b = await createGenesis({ config: reordered, db: createMemoryStore() })
    expect(b.stateRoot).toEqual(a.stateRoot)
    expect(b.hash).toEqual(a.hash)
    expect(a.block.header.chainId).toBe(7n)
    expect(a.block.header.height).toBe(0n)
    expect(a.params.epochLength).toBe(10n)
    expect(a.params.unbondingPeriod).toBe(50n)
    const set = await a.state.getValidatorSet()
    expect(set.epoch).toBe(0n)
    expect(set.totalStake).toBe(400n)
    expect(set.validators.map((v) => v.stake).sort()).toEqual([100n, 300n])
    expect((await a.state.getAccount(v1.address)).balance).toBe(7n)
    expect((await a.state.getAccount(v1.address)).stake).toBe(100n)
    expect(await a.state.getValidatorCandidates()).toHaveLength(2)
    expect(a.stateOps.length).toBeGreaterThan(0)
  })

  it('refuses bad input with ERR_BAD_GENESIS', async () => {
    const bad = async (c: Partial<GenesisConfig>) =>
      createGenesis({ config: { ...config, ...c } as GenesisConfig, db: createMemoryStore() })
    await expect(bad({ chainId: -1 })).rejects.toMatchObject({ code: 'ERR_BAD_GENESIS' })
    await expect(bad({ chainId: '01' })).rejects.toMatchObject({ code: 'ERR_BAD_GENESIS' })
    await expect(bad({ balances: { '0x12': '1' } })).rejects.toMatchObject({
      code: 'ERR_BAD_GENESIS',
    })
    await expect(
      bad({ validators: [config.validators[0], config.validators[0]] }),
    ).rejects.toMatchObject({ code: 'ERR_BAD_GENESIS' })
    await expect(
      bad({ validators: [{ ...config.validators[0], blsPublicKey: 'zz' }] }),
    ).rejects.toMatchObject({ code: 'ERR_BAD_GENESIS' })
    await expect(bad({ params: { epochLength: 0 } })).rejects.toMatchObject({
      code: 'ERR_BAD_GENESIS',
    })
    await expect(
      createGenesis({ config: null as unknown as GenesisConfig, db: createMemoryStore() }),
    ).rejects.toMatchObject({ code: 'ERR_BAD_GENESIS' })
    expect(
      genesisParams({
        ...config,
        gasLimit: 5,
        params: { maxValidators: 3, minValidatorStake: '9', minGasPrice: 1 },
      }),
    ).toMatchObject({
      blockGasLimit: 5n,
      maxValidators: 3,
      minValidatorStake: 9n,
      minGasPrice: 1n,
    })
  })
})
