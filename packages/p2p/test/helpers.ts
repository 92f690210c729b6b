import { createHash } from 'node:crypto'
import { createP2PNode, type P2PNode, type P2POptions } from '../src/index.js'

export const GENESIS = createHash('sha256').update('aureon/p2p/test/genesis').digest()
export const OTHER_GENESIS = createHash('sha256').update('another genesis').digest()

export interface LogLine {
  level: string
  obj: unknown
  msg?: string
}

/** A logger that keeps its lines for assertions. */
export function memoryLogger(): { lines: LogLine[] } & Required<NonNullable<P2POptions['logger']>> {
  const lines: LogLine[] = []
  const at = (level: string) => (obj: unknown, msg?: string) => {
    lines.push({ level, obj, msg })
  }
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') }
}

/** Starts nodes on 127.0.0.1 with free ports; `stopAll` stops every node made. */
export function nodeFactory() {
  const made: P2PNode[] = []
  return {
    async make(opts: Partial<P2POptions> = {}): Promise<P2PNode> {
      const n = await createP2PNode({
        chainId: 1n,
        genesisHash: GENESIS,
        listen: ['/ip4/127.0.0.1/tcp/0'],
        // most tests gossip raw bytes; encodings are checked in their own test
        validateEncodings: false,
        ...opts,
        limits: { requestTimeoutMs: 5000, handshakeTimeoutMs: 5000, ...opts.limits },
      })
      made.push(n)
      return n
    },
    async stopAll(): Promise<void> {
      await Promise.all(made.splice(0).map((n) => n.stop().catch(() => {})))
    },
  }
}

/** Resolves with the first value `pick` returns (polling), or rejects after `ms`. */
export async function eventually<T>(pick: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = pick()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`condition not met in ${ms} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Dials b from a and waits until both sides see the other as ready. */
export async function link(a: P2PNode, b: P2PNode): Promise<void> {
  await a.dial(b.addresses()[0])
  await eventually(() => b.peers().includes(a.peerId))
}
