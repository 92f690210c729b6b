import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  chunkFileName,
  decodeChunk,
  decodeManifest,
  decompressChunk,
  isSnapshotError,
  MANIFEST_FILE,
  MAX_CHUNK_SIZE,
  openSnapshot,
  packSnapshot,
} from '../src/index.js'
import { exportTestSnapshot } from './helpers.js'

let tmp: string
let dir: string
let packed: Uint8Array

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'aureon-snap-corrupt-'))
  dir = join(tmp, 'good')
  await exportTestSnapshot(dir, { accounts: 30, contracts: 2, slots: 20 })
  const file = join(tmp, 'good.aursnap')
  await packSnapshot({ dir, file })
  packed = new Uint8Array(await readFile(file))
})
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true })
})

function codeOf(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    expect(isSnapshotError(e), String(e)).toBe(true)
    return (e as { code: string }).code
  }
  return 'accepted'
}

async function codeOfAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f()
  } catch (e) {
    expect(isSnapshotError(e), String(e)).toBe(true)
    return (e as { code: string }).code
  }
  return 'accepted'
}

describe('[snapshots]: every cut or damaged input is a coded SnapshotError', () => {
  it('a manifest cut at any length, or with any byte flipped', async () => {
    const m = new Uint8Array(await readFile(join(dir, MANIFEST_FILE)))
    for (let n = 0; n < m.length; n++) {
      expect(codeOf(() => decodeManifest(m.subarray(0, n)))).not.toBe('accepted')
    }
    for (let i = 0; i < m.length; i++) {
      const b = m.slice()
      b[i] ^= 0x01
      expect(codeOf(() => decodeManifest(b))).not.toBe('accepted')
    }
  })

  it('a chunk body cut at any length', async () => {
    const c = new Uint8Array(await readFile(join(dir, chunkFileName(0))))
    const raw = await decompressChunk(c, MAX_CHUNK_SIZE)
    expect(decodeChunk(raw, 0).segments.length).toBeGreaterThan(0)
    for (let n = 0; n < raw.length; n++) {
      expect(codeOf(() => decodeChunk(raw.subarray(0, n), 0))).not.toBe('accepted')
    }
    // a chunk that decompresses past its limit (oversized) is refused, not allocated
    expect(await codeOfAsync(() => decompressChunk(c, 16))).toBe('ERR_SNAPSHOT_CORRUPT')
  })

  it('a packed file cut at any length, then read through', async () => {
    const step = Math.max(1, Math.floor(packed.length / 97))
    for (let n = 0; n < packed.length; n += step) {
      const f = join(tmp, `cut-${n}.aursnap`)
      await writeFile(f, packed.subarray(0, n))
      const code = await codeOfAsync(async () => {
        const src = await openSnapshot(f)
        try {
          const m = await src.manifest()
          for (let i = 0; i < m.chunks.length; i++) await src.chunk(i)
        } finally {
          await src.close?.()
        }
      })
      expect(code, `cut at ${n}`).not.toBe('accepted')
      await rm(f)
    }
  })
})
