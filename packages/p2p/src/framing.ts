/**
 * Length-prefixed framing on libp2p streams (unsigned varint length, then the bytes; the
 * `it-length-prefixed` format every libp2p request/response protocol uses).
 */
import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { P2PError, P2PErrorCode } from './errors.js'

/**
 * Writes one frame; waits for the stream to drain if its buffer is full.
 * @example
 * await writeFrame(stream, request)
 */
export async function writeFrame(stream: Stream, data: Uint8Array): Promise<void> {
  if (!stream.send(lp.encode.single(data))) await stream.onDrain()
}

/**
 * Reads the next frame of at most `maxBytes`; throws `ERR_MESSAGE_TOO_LARGE` if its length prefix
 * says more, `ERR_INVALID_MESSAGE` if the stream ends first.
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
    if ((e as Error).name === 'InvalidDataLengthError') {
      throw new P2PError(P2PErrorCode.MESSAGE_TOO_LARGE, `frame is larger than ${maxBytes} bytes`, {
        details: { maxBytes },
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
