/**
 * The chain ledger.transfers runs on (bench/index.ts, bench/profile.ts): a LevelStore in a temp
 * folder, a genesis of `perBlock` funded senders and `accounts - perBlock` recipients, and the
 * blocks of signed transfers (sender i of block b pays a recipient spread over the state).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLevelStore } from '@aureon/storage'
import { type ChainStore, openChainStore } from '../src/chain-store.js'
import { toHexKey } from '../src/codec.js'
import { createGenesis } from '../src/genesis.js'
import { encodeTransaction } from '../src/tx.js'
import type {
  ApplyBlockResult,
  Block,
  BlockHeader,
  Genesis,
  GenesisConfig,
  Transaction,
} from '../src/types.js'
import { key, transfer } from '../test/helpers.js'

export const recipient = (i: number): Uint8Array => {
  const a = new Uint8Array(20)
  a[0] = 0xee
  new DataView(a.buffer).setUint32(16, i)
  return a
}

export interface TransferChain {
  chain: ChainStore
  genesis: Genesis
  genesisMs: number
  senders: ReturnType<typeof key>[]
  /** Block b's transfers, signed and encoded (the network's work: not timed). */
  wireOf(b: number): Uint8Array[]
  /** The header of the block after the head (roots filled in by `seal`). */
  nextHeader(): BlockHeader
  /** The block of `header` and `txs` with the roots and gas of its execution. */
  seal(header: BlockHeader, txs: Transaction[], res: ApplyBlockResult): Block
  close(): Promise<void>
}

export async function openTransferChain(opts: {
  accounts: number
  perBlock: number
  dirPrefix: string
}): Promise<TransferChain> {
  const { accounts, perBlock } = opts
  const dir = mkdtempSync(join(tmpdir(), opts.dirPrefix))
  const chain = await openChainStore({ db: await openLevelStore({ path: dir }) })
  const senders = Array.from({ length: perBlock }, (_, i) => key(10_000 + i))
  const hex = (b: Uint8Array) => `0x${toHexKey(b)}`
  const balances: Record<string, string> = {}
  for (const s of senders) balances[hex(s.address)] = '1000000000000000'
  for (let i = 0; i < accounts - perBlock; i++) balances[hex(recipient(i))] = '1'
  const config: GenesisConfig = {
    chainId: 1,
    timestamp: 0,
    balances,
    validators: [],
    consensus: { engine: 'dev' },
  }
  const t0 = performance.now()
  const genesis = await createGenesis({ config, db: chain.stateDb })
  await chain.commitBlock({ block: genesis.block, receipts: [], stateOps: genesis.stateOps })
  const genesisMs = performance.now() - t0
  return {
    chain,
    genesis,
    genesisMs,
    senders,
    wireOf: (b) =>
      senders.map((s, i) =>
        encodeTransaction(
          transfer(s, recipient((i * 7919 + b * 104_729) % (accounts - perBlock)), BigInt(b), 1n, {
            gasPrice: 10n,
          }),
        ),
      ),
    nextHeader: () => {
      const parent = chain.head()!
      return {
        ...parent,
        height: parent.height + 1n,
        proposer: senders[0].address,
        gasLimit: 30_000_000n,
      }
    },
    seal: (header, txs, res) => ({
      header: {
        ...header,
        stateRoot: res.stateRoot,
        txRoot: res.txRoot,
        receiptsRoot: res.receiptsRoot,
        gasUsed: res.gasUsed,
      },
      transactions: txs,
    }),
    close: async () => {
      await chain.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
