/**
 * State sync building block: a ChunkSource that fetches chunks from several sources (peers) in
 * parallel through an injected `fetchChunk`, checks each against the manifest's sha256 on
 * arrival, and retries another source when one fails or serves bad bytes. Plug it into
 * `importSnapshot({ source, concurrency })`: the importer then verifies every chunk's proofs.
 * The transport (p2p request/response) is the caller's.
 */
import { equal } from './bytes.js'
import { SnapshotError, SnapshotErrorCode } from './errors.js'
import { decodeManifest } from './format.js'
import { sha256 } from './hash.js'
import type { ChunkSource, SnapshotManifest } from './types.js'

/** Options of {@link createMultiSourceChunkSource}. */
export interface MultiSourceOptions<S = string> {
  /** The manifest (decoded, or its bytes as served by a peer). */
  manifest: SnapshotManifest | Uint8Array
  /** Sources to ask (peer ids, URLs, folders...). */
  sources: S[]
  /** Fetches the compressed bytes of chunk `index` from `source`. */
  fetchChunk: (source: S, index: number, signal?: AbortSignal) => Promise<Uint8Array>
  /** Attempts per chunk over all sources (default: 2 x sources). */
  maxAttempts?: number
  /** A source that served this many bad chunks is no longer asked (default 1). */
  maxBadChunks?: number
  /** Called when a source fails or serves a chunk that does not match the manifest. */
  onSourceError?: (source: S, index: number, error: unknown) => void
  signal?: AbortSignal
}

/**
 * A ChunkSource over several sources: chunk i is asked first from source i mod n, then from the
 * next ones; bad sources are dropped.
 * @example
 * const source = createMultiSourceChunkSource({
 *   manifest, sources: ['peerA', 'peerB'], fetchChunk: (peer, i) => p2p.requestChunk(peer, i),
 * })
 * await importSnapshot({ source, db, expect: { chainId: 1n, stateRoot }, concurrency: 8 })
 */
export function createMultiSourceChunkSource<S>(opts: MultiSourceOptions<S>): ChunkSource & {
  /** Sources still in use. */
  readonly activeSources: S[]
} {
  const manifest =
    opts.manifest instanceof Uint8Array ? decodeManifest(opts.manifest) : opts.manifest
  if (opts.sources.length === 0) {
    throw new SnapshotError(
      SnapshotErrorCode.INVALID_OPTIONS,
      'state sync needs at least one source',
    )
  }
  const bad = new Map<S, number>()
  const maxBad = opts.maxBadChunks ?? 1
  const active = () => opts.sources.filter((s) => (bad.get(s) ?? 0) < maxBad)
  return {
    get activeSources() {
      return active()
    },
    async manifest() {
      return manifest
    },
    async chunk(index) {
      const info = manifest.chunks[index]
      if (!info)
        throw new SnapshotError(SnapshotErrorCode.CORRUPT, `chunk ${index} is not in the manifest`)
      const attempts = opts.maxAttempts ?? opts.sources.length * 2
      const errors: string[] = []
      for (let a = 0; a < attempts; a++) {
        const list = active()
        if (list.length === 0) break
        if (opts.signal?.aborted)
          throw new SnapshotError(SnapshotErrorCode.ABORTED, 'state sync aborted')
        const src = list[(index + a) % list.length]
        try {
          const bytes = await opts.fetchChunk(src, index, opts.signal)
          if (bytes.length !== info.compressedSize || !equal(sha256(bytes), info.hash)) {
            bad.set(src, (bad.get(src) ?? 0) + 1)
            const e = new SnapshotError(
              SnapshotErrorCode.CORRUPT,
              `chunk ${index} from ${String(src)} does not match the manifest`,
            )
            opts.onSourceError?.(src, index, e)
            errors.push(e.message)
            continue
          }
          return bytes
        } catch (e) {
          opts.onSourceError?.(src, index, e)
          errors.push(`${String(src)}: ${(e as Error).message}`)
        }
      }
      throw new SnapshotError(
        SnapshotErrorCode.FETCH_FAILED,
        `no source delivered a valid chunk ${index} (${errors.length} attempts): ${errors.slice(-3).join('; ')}`,
        { details: { chunk: index, attempts: errors.length } },
      )
    },
  }
}
