import { ed25519 } from '@aureon/crypto'
import { transactionSigningPayload } from './tx.js'
import type { BatchVerifier, Ed25519VerifyItem, Transaction } from './types.js'

/**
 * A verifier that checks ed25519 signatures one by one on the calling thread (crypto's
 * ed25519.verify, the pinned validity rule). Pass crypto's worker-pool verifier for parallelism.
 * @example
 * const { valid, invalid } = await mainThreadVerifier.verifyEd25519(items)
 */
export const mainThreadVerifier: BatchVerifier = {
  async verifyEd25519(items: Ed25519VerifyItem[]) {
    const invalid: number[] = []
    for (let i = 0; i < items.length; i++) {
      const it = items[i]
      if (!ed25519.verify(it.signature, it.message, it.publicKey)) invalid.push(i)
    }
    return { valid: invalid.length === 0, invalid }
  },
}

/** The verification items of a list of transactions. */
export function signatureItems(txs: Transaction[]): Ed25519VerifyItem[] {
  return txs.map((tx) => ({
    publicKey: tx.senderPublicKey,
    message: transactionSigningPayload(tx),
    signature: tx.signature,
  }))
}
