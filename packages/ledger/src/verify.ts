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

/** What a verifier saw of a transaction object (its signature and key, by reference). */
interface Seen {
  by: BatchVerifier
  signature: Uint8Array
  publicKey: Uint8Array
}

/** Transaction objects whose signature a verifier accepted. */
const accepted = new WeakMap<Transaction, Seen>()
/** Transaction objects being checked right now (the answer, when it comes). */
const checking = new WeakMap<Transaction, Seen & { ok: Promise<boolean> }>()

function same(s: Seen | undefined, tx: Transaction, verifier: BatchVerifier): boolean {
  return (
    s !== undefined &&
    s.by === verifier &&
    s.signature === tx.signature &&
    s.publicKey === tx.senderPublicKey
  )
}

/**
 * Verifies the signatures of `txs` with `verifier`, skipping transaction objects this verifier
 * already accepted (a pool verified them on arrival, or a block was checked ahead of its
 * execution) and joining checks still running, and remembers the accepted ones (per object,
 * with the signature and key objects it saw). Returns the indices of bad signatures, ascending.
 * @example
 * const invalid = await verifyTransactionSignatures(verifier, block.transactions)
 */
export async function verifyTransactionSignatures(
  verifier: BatchVerifier,
  txs: Transaction[],
): Promise<number[]> {
  const checks: (Promise<boolean> | undefined)[] = new Array(txs.length)
  const todo: number[] = []
  for (let i = 0; i < txs.length; i++) {
    const tx = txs[i]
    if (same(accepted.get(tx), tx, verifier)) continue
    const running = checking.get(tx)
    if (running && same(running, tx, verifier)) checks[i] = running.ok
    else todo.push(i)
  }
  if (todo.length > 0) {
    const run = verifier
      .verifyEd25519(signatureItems(todo.map((i) => txs[i])))
      .then((v) => new Set(v.invalid))
    for (let j = 0; j < todo.length; j++) {
      const tx = txs[todo[j]]
      const seen: Seen = { by: verifier, signature: tx.signature, publicKey: tx.senderPublicKey }
      const entry = { ...seen, ok: run.then((bad) => !bad.has(j)) }
      const done = () => {
        if (checking.get(tx) === entry) checking.delete(tx)
      }
      entry.ok.then((ok) => {
        done()
        if (ok) accepted.set(tx, seen)
      }, done)
      checking.set(tx, entry)
      checks[todo[j]] = entry.ok
    }
  }
  const invalid: number[] = []
  for (let i = 0; i < txs.length; i++) {
    const c = checks[i]
    if (c !== undefined && !(await c)) invalid.push(i)
  }
  return invalid
}
