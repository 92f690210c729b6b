/**
 * Length-prefixed framing on libp2p streams (unsigned varint length, then the bytes; the
 * `it-length-prefixed` format every libp2p request/response protocol uses).
 */
import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import type { Uint8ArrayList } from 'uint8arraylist'
import { P2PError, P2PErrorCode } from './errors.js'

/**
 * Writes one frame; waits for the stream to drain if its buffer is full.
 * @example
 * await writeFrame(stream, request)
 */
export async function writeFrame(stream: Stream, data: Uint8Array): Promise<void> {
  // the encoder refuses frames over 4 MiB unless told otherwise; the callers enforce their limits
  if (!stream.send(lp.encode.single(data, { maxDataLength: data.byteLength }))) {
    await stream.onDrain()
  }
}

/** it-length-prefixed's errors for a malformed frame (bad or overlong varint, truncated data). */
const MALFORMED = new Set([
  'InvalidMessageLengthError',
  'InvalidDataLengthLengthError',
  'UnexpectedEOFError',
])

/**
 * Reads the next frame of at most `maxBytes`; throws `ERR_MESSAGE_TOO_LARGE` if its length prefix
 * says more, `ERR_INVALID_MESSAGE` if the prefix is malformed or the stream ends first.
 * @example
 * const request = await readFrame(stream, 64 * 1024)
 */
export async function readFrame(stream: Stream, maxBytes: number): Promise<Uint8Array> {
  try {
    for await (const frame of lp.decode(stream, { maxDataLength: maxBytes })) {
      const b = frame.subarray()
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
    }
  } catch (e) {
    const name = (e as Error).name
    if (name === 'InvalidDataLengthError') {
      throw new P2PError(P2PErrorCode.MESSAGE_TOO_LARGE, `frame is larger than ${maxBytes} bytes`, {
        details: { maxBytes },
        cause: e,
      })
    }
    if (MALFORMED.has(name)) {
      throw new P2PError(P2PErrorCode.INVALID_MESSAGE, `malformed frame: ${(e as Error).message}`, {
        cause: e,
      })
    }
    throw e
  }
  throw new P2PError(P2PErrorCode.INVALID_MESSAGE, 'stream ended before a complete frame')
}

/**
 * Resolves or rejects like `p`, or rejects with `ERR_TIMEOUT` after `ms` (calling `onTimeout`).
 * @example
 * const res = await withTimeout(readFrame(stream, max), 5000, 'status', () => stream.abort(new Error('timeout')))
 */
export function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  what: string,
  onTimeout?: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.()
      reject(
        new P2PError(P2PErrorCode.TIMEOUT, `${what}: no answer in ${ms} ms`, { details: { ms } }),
      )
    }, ms)
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e) => {
        clearTimeout(timer)
        reject(e)
      },
    )
  })
}

interface PushableOutbound {
  push(data: Uint8Array): void
  pushPrefixed(data: Uint8Array | Uint8ArrayList): void
}

/**
 * gossipsub 17 frames its outbound RPCs with `it-length-prefixed`'s default 4 MiB encoder limit,
 * so a larger message (a block under an 8 MiB topic limit) is dropped with only a log line. This
 * makes each outbound gossipsub stream frame any size (the topic limits are checked before
 * publishing and, by the receiver, with `maxInboundDataLength`). Returns false, changing nothing,
 * if gossipsub's internals are not the expected ones.
 * @example
 * liftGossipsubFrameLimit(host.services.pubsub)
 */
export function liftGossipsubFrameLimit(pubsub: unknown): boolean {
  const streams = (pubsub as { streamsOutbound?: unknown }).streamsOutbound
  if (!(streams instanceof Map)) return false
  const set = streams.set.bind(streams)
  streams.set = (id: unknown, stream: unknown) => {
    const s = stream as Partial<PushableOutbound>
    if (typeof s.push === 'function' && typeof s.pushPrefixed === 'function') {
      const pushPrefixed = s.pushPrefixed.bind(s)
      s.push = (data: Uint8Array) =>
        pushPrefixed(lp.encode.single(data, { maxDataLength: data.byteLength }))
    }
    return set(id, stream)
  }
  return true
}
