import { addressFromPublicKey, ed25519, sha256 } from '@aureon/crypto'
import { createWorldState, emptyAccount, type LedgerWorldState } from '@aureon/ledger'
import { createMemoryStore, type KVStore } from '@aureon/storage'
import { exportSnapshot } from '../src/index.js'

/** Deterministic bytes from a seed. */
export function seeded(seed: string, n = 32): Uint8Array {
  const out = new Uint8Array(n)
  let h = sha256(new TextEncoder().encode(seed))
  for (let i = 0; i < n; i += 32) {
    out.set(h.subarray(0, Math.min(32, n - i)), i)
    h = sha256(h)
  }
  return out
}

export interface BuiltState {
  stateDb: KVStore
  state: LedgerWorldState
  stateRoot: Uint8Array
  secretKey: Uint8Array
  sender: Uint8Array
  contracts: Uint8Array[]
}

/**
 * A state with `accounts` plain accounts, `contracts` contracts (code + `slots` storage slots
 * each) and one funded account whose key the test holds. Written (flushed) into `stateDb`.
 */
export async function buildState(
  stateDb: KVStore,
  opts: { accounts: number; contracts: number; slots: number; seed?: string },
): Promise<BuiltState> {
  const seed = opts.seed ?? 's'
  const state = await createWorldState({ db: stateDb })
  for (let i = 0; i < opts.accounts; i++) {
    const a = seeded(`${seed}/acct/${i}`, 20)
    await state.putAccount(a, {
      ...emptyAccount(),
      balance: BigInt(i + 1) * 1000n,
      nonce: BigInt(i % 7),
    })
  }
  const contracts: Uint8Array[] = []
  for (let c = 0; c < opts.contracts; c++) {
    const addr = seeded(`${seed}/contract/${c}`, 20)
    contracts.push(addr)
    // two contracts share code: code is stored once
    const codeHash = await state.putCode(seeded(`${seed}/code/${c >> 1}`, 200 + (c >> 1) * 50))
    await state.putAccount(addr, { ...emptyAccount(), codeHash, balance: 5n })
    for (let s = 0; s < opts.slots; s++) {
      const v =
        s % 5 === 0 ? new Uint8Array([s & 0xff]) : seeded(`${seed}/v/${c}/${s}`, 1 + (s % 40))
      await state.putStorage(addr, seeded(`${seed}/k/${c}/${s}`, 32), v)
    }
  }
  const secretKey = seeded(`${seed}/sk`)
  const sender = addressFromPublicKey(ed25519.getPublicKey(secretKey))
  await state.putAccount(sender, { ...emptyAccount(), balance: 10n ** 24n })
  const stateRoot = await state.root()
  await stateDb.batch(await state.flush())
  return { stateDb, state, stateRoot, secretKey, sender, contracts }
}

/**
 * Builds a state in a MemoryStore and exports it to the snapshot folder `dir` (chain 7, height
 * 5, 4 KiB chunks, so even a small state makes several chunks).
 */
export async function exportTestSnapshot(
  dir: string,
  sizes: { accounts: number; contracts: number; slots: number },
): Promise<BuiltState> {
  const db = createMemoryStore()
  const built = await buildState(db.namespace('state'), sizes)
  await exportSnapshot({
    stateDb: db.namespace('state'),
    chainId: 7n,
    height: 5n,
    blockHash: seeded('b'),
    stateRoot: built.stateRoot,
    dir,
    chunkSize: 4096,
  })
  return built
}
