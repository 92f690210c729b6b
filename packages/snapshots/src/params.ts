/** Format version written in manifests, chunks and packed files. */
export const SNAPSHOT_FORMAT_VERSION = 1
/** Most bytes of a chunk before compression (4 MiB). */
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024
/** Room kept free in a chunk for the edge proofs added when it is closed. */
export const CHUNK_PROOF_RESERVE = 128 * 1024
/** Default zstd level. */
export const DEFAULT_ZSTD_LEVEL = 3
/** Magic of a manifest ("AUSM"). */
export const MANIFEST_MAGIC = new Uint8Array([0x41, 0x55, 0x53, 0x4d])
/** Magic of a chunk body ("AUSC"). */
export const CHUNK_MAGIC = new Uint8Array([0x41, 0x55, 0x53, 0x43])
/** Magic at both ends of a packed snapshot file ("AUSP"). */
export const PACK_MAGIC = new Uint8Array([0x41, 0x55, 0x53, 0x50])
/** File name of the manifest inside a snapshot folder. */
export const MANIFEST_FILE = 'manifest.bin'
/** Root of the empty Merkle Patricia trie: keccak256(RLP('')). */
export const EMPTY_TRIE_ROOT = new Uint8Array(
  Buffer.from('56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421', 'hex'),
)
/** sha256 of the empty string: code hash of accounts without code. */
export const EMPTY_CODE_HASH = new Uint8Array(
  Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'),
)
/** Namespace (under the state store) that holds contract code by sha256 hash (as the ledger). */
export const CODE_NAMESPACE = 'code'
/** Key (in the import namespace's `meta` sub-namespace) written when an import is complete. */
export const IMPORT_COMPLETE_KEY = new TextEncoder().encode('import-complete')
/** Key (in the import namespace's `meta` sub-namespace) written before an import writes anything. */
export const IMPORT_STARTED_KEY = new TextEncoder().encode('import-started')
/** Name of the sub-namespace of an import target that holds import bookkeeping. */
export const IMPORT_META_NAMESPACE = 'snapshot-meta'
/** File name of chunk `i` inside a snapshot folder. */
export function chunkFileName(i: number): string {
  return `chunk-${String(i).padStart(6, '0')}.zst`
}
