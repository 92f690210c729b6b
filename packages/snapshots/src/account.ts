/** The two account fields a snapshot follows: codeHash and storageRoot. Internal. */

import { equal } from './bytes.js'
import { EMPTY_CODE_HASH, EMPTY_TRIE_ROOT } from './params.js'
import { rlpDecode } from './rlp.js'

/** References of an account-trie leaf, or undefined when the leaf is not an account record. */
export interface AccountRefs {
  codeHash?: Uint8Array
  storageRoot?: Uint8Array
}

/**
 * Reads codeHash and storageRoot from a leaf value RLP([nonce, balance, stake, codeHash,
 * storageRoot, unbonding]); other records (validator sets) give `{}`. Empty code / storage give
 * undefined fields.
 */
export function accountRefs(value: Uint8Array): AccountRefs {
  let item: ReturnType<typeof rlpDecode>
  try {
    item = rlpDecode(value)
  } catch {
    return {}
  }
  if (!Array.isArray(item) || item.length !== 6) return {}
  const code = item[3]
  const root = item[4]
  if (!(code instanceof Uint8Array) || code.length !== 32) return {}
  if (!(root instanceof Uint8Array) || root.length !== 32) return {}
  return {
    codeHash: equal(code, EMPTY_CODE_HASH) ? undefined : code,
    storageRoot: equal(root, EMPTY_TRIE_ROOT) ? undefined : root,
  }
}
