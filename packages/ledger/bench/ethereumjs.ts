/**
 * Peer baseline: @ethereumjs/vm 10 executing equivalent signed value transfers (legacy txs,
 * secp256k1, decoded from RLP so sender recovery is measured), state root once per block of
 * `perBlock` transfers, in memory (EthereumJS default caches on).
 */
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createLegacyTx, createLegacyTxFromRLP } from '@ethereumjs/tx'
import {
  createAccount,
  createAddressFromPrivateKey,
  createAddressFromString,
} from '@ethereumjs/util'
import { createVM, runTx } from '@ethereumjs/vm'

/** Sets up the baseline VM; `runBlock(b)` runs one block of transfers and returns its ms. */
export async function createEthereumJSBaseline(opts: { accounts: number; perBlock: number }) {
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Shanghai })
  const vm = await createVM({ common })
  const sm = vm.stateManager
  const senders = Array.from({ length: opts.perBlock }, (_, i) => {
    const pk = new Uint8Array(32)
    new DataView(pk.buffer).setUint32(0, i + 1)
    pk[31] = 1
    return { pk, address: createAddressFromPrivateKey(pk) }
  })
  const recipient = (i: number) =>
    createAddressFromString(`0x${(i + 1).toString(16).padStart(40, '0')}`)
  await sm.checkpoint()
  for (const s of senders) await sm.putAccount(s.address, createAccount({ balance: 10n ** 20n }))
  for (let i = 0; i < opts.accounts; i++) {
    await sm.putAccount(recipient(i), createAccount({ balance: 1n }))
  }
  await sm.commit()
  await sm.getStateRoot()
  return {
    async runBlock(b: number): Promise<number> {
      const raw = senders.map((s, i) =>
        createLegacyTx(
          {
            nonce: BigInt(b),
            gasPrice: 10n,
            gasLimit: 21_000n,
            to: recipient((i * 7919 + b * 104_729) % opts.accounts),
            value: 1n,
          },
          { common },
        )
          .sign(s.pk)
          .serialize(),
      )
      const t0 = performance.now()
      await sm.checkpoint()
      for (const r of raw) {
        const tx = createLegacyTxFromRLP(r, { common })
        await runTx(vm, { tx, skipBlockGasLimitValidation: true, skipHardForkValidation: true })
      }
      await sm.commit()
      await sm.getStateRoot()
      return performance.now() - t0
    },
  }
}
