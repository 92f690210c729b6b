import type { SnapshotProgress } from '@aureon/snapshots'
import { SingleBar } from 'cli-progress'

/** Progress: a bar (bytes, chunks, rate, ETA) on a TTY, plain lines otherwise. */
export function progressReporter(label: string): {
  update(p: SnapshotProgress): void
  stop(): void
} {
  const mb = (n: number) => (n / 1048576).toFixed(1)
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {percentage}% | {mb} MB | chunk {chunks}{of} | {rate} MB/s | ETA {eta}s`,
      stream: process.stderr,
      hideCursor: true,
    })
    let started = false
    return {
      update(p) {
        const total = p.totalBytes ?? Math.max(p.bytes, 1)
        const payload = {
          mb: mb(p.bytes),
          chunks: p.chunks,
          of: p.totalChunks ? `/${p.totalChunks}` : '',
          rate: mb(p.rate),
        }
        if (!started) {
          bar.start(total, p.bytes, payload)
          started = true
        } else {
          bar.setTotal(total)
          bar.update(p.bytes, payload)
        }
      },
      stop: () => bar.stop(),
    }
  }
  let last = 0
  return {
    update(p) {
      const now = Date.now()
      if (now - last < 1000 && p.totalChunks !== p.chunks) return
      last = now
      process.stderr.write(
        `${label}: ${p.chunks}${p.totalChunks ? `/${p.totalChunks}` : ''} chunks, ${mb(p.bytes)} MB, ${mb(p.rate)} MB/s\n`,
      )
    },
    stop() {},
  }
}
