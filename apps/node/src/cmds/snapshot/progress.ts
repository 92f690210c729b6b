import type { SnapshotProgress } from '@aureon/snapshots'
import { SingleBar } from 'cli-progress'

/**
 * Progress: a bar (bytes, chunks, rate, ETA) on a TTY, plain lines otherwise (at most one a
 * second, plus the last of each phase). An import with a staging folder has a second phase,
 * `write` (the sorted trie nodes going into the store), shown as its own bar.
 */
export function progressReporter(label: string): {
  update(p: SnapshotProgress): void
  stop(): void
} {
  const mb = (n: number) => (n / 1048576).toFixed(1)
  const name = (p: SnapshotProgress) => (p.phase === 'write' ? `${label} (write)` : label)
  if (process.stderr.isTTY) {
    let bar: SingleBar | undefined
    let phase: SnapshotProgress['phase'] | undefined
    return {
      update(p) {
        const total = p.totalBytes ?? Math.max(p.bytes, 1)
        const payload = {
          mb: mb(p.bytes),
          chunks: p.chunks,
          of: p.totalChunks ? `/${p.totalChunks}` : '',
          rate: mb(p.rate),
        }
        if (!bar || phase !== p.phase) {
          bar?.stop()
          bar = new SingleBar({
            format: `${name(p)} [{bar}] {percentage}% | {mb} MB | chunk {chunks}{of} | {rate} MB/s | ETA {eta}s`,
            stream: process.stderr,
            hideCursor: true,
          })
          phase = p.phase
          bar.start(total, p.bytes, payload)
        } else {
          bar.setTotal(total)
          bar.update(p.bytes, payload)
        }
      },
      stop: () => bar?.stop(),
    }
  }
  let last = 0
  let phase: SnapshotProgress['phase'] | undefined
  return {
    update(p) {
      const now = Date.now()
      const end = p.phase === 'write' ? p.bytes >= (p.totalBytes ?? 0) : p.totalChunks === p.chunks
      if (now - last < 1000 && phase === p.phase && !end) return
      last = now
      phase = p.phase
      process.stderr.write(
        `${name(p)}: ${p.chunks}${p.totalChunks ? `/${p.totalChunks}` : ''} chunks, ${mb(p.bytes)} MB, ${mb(p.rate)} MB/s\n`,
      )
    },
    stop() {},
  }
}
