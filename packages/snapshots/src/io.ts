/**
 * Where snapshots live: a folder (`manifest.bin` + `chunk-NNNNNN.zst`) or one packed file
 * (chunks, then the manifest, then a 16-byte trailer). Layouts in docs/snapshots.md.
 */
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises'
import { join } from 'node:path'
import { ByteWriter, equal } from './bytes.js'
import { SnapshotError, SnapshotErrorCode } from './errors.js'
import { decodeManifest, encodeManifest } from './format.js'
import { chunkFileName, MANIFEST_FILE, PACK_MAGIC, SNAPSHOT_FORMAT_VERSION } from './params.js'
import type { ChunkSource, SnapshotManifest } from './types.js'

/** Bytes before the first chunk of a packed file: magic, u16 version, u16 reserved. */
export const PACK_HEADER_SIZE = 8
/** Bytes of the packed file trailer: u64 manifest offset, u32 manifest length, magic. */
export const PACK_TRAILER_SIZE = 16

/** Receives the chunks of an export in order, then the manifest. */
export interface SnapshotSink {
  writeChunk(index: number, bytes: Uint8Array): Promise<void>
  finish(manifest: Uint8Array): Promise<void>
  abort(): Promise<void>
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p)
    return true
  } catch {
    return false
  }
}

/** A sink writing a snapshot folder; the manifest is written last (by rename). */
export async function createDirSink(dir: string): Promise<SnapshotSink> {
  if (await exists(join(dir, MANIFEST_FILE))) {
    throw new SnapshotError(
      SnapshotErrorCode.INVALID_OPTIONS,
      `${dir} already holds a snapshot (manifest.bin): choose an empty folder`,
    )
  }
  await mkdir(dir, { recursive: true })
  return {
    async writeChunk(i, bytes) {
      await writeFile(join(dir, chunkFileName(i)), bytes)
    },
    async finish(manifest) {
      const tmp = join(dir, `${MANIFEST_FILE}.tmp`)
      await writeFile(tmp, manifest)
      await rename(tmp, join(dir, MANIFEST_FILE))
    },
    async abort() {
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A sink writing one packed file (written to `<file>.partial`, renamed when complete). */
export async function createFileSink(file: string): Promise<SnapshotSink> {
  const tmp = `${file}.partial`
  const fh = await open(tmp, 'w')
  const header = new ByteWriter(8).bytes(PACK_MAGIC).u16(SNAPSHOT_FORMAT_VERSION).u16(0).finish()
  await fh.write(header)
  let offset = header.length
  return {
    async writeChunk(_i, bytes) {
      await fh.write(bytes)
      offset += bytes.length
    },
    async finish(manifest) {
      const trailer = new ByteWriter(16)
        .u64(BigInt(offset))
        .u32(manifest.length)
        .bytes(PACK_MAGIC)
        .finish()
      await fh.write(manifest)
      await fh.write(trailer)
      await fh.sync()
      await fh.close()
      await rename(tmp, file)
    },
    async abort() {
      await fh.close().catch(() => {})
      await rm(tmp, { force: true })
    },
  }
}

const truncated = (msg: string): never => {
  throw new SnapshotError(SnapshotErrorCode.TRUNCATED, msg)
}

/** Reads a snapshot folder. */
async function openDir(dir: string): Promise<ChunkSource> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(join(dir, MANIFEST_FILE))
  } catch (e) {
    throw new SnapshotError(
      SnapshotErrorCode.NOT_FOUND,
      `${dir} is not a snapshot folder: it has no manifest.bin (an export that did not finish?)`,
      { cause: e },
    )
  }
  const manifest = decodeManifest(new Uint8Array(bytes))
  return {
    async manifest() {
      return manifest
    },
    async chunk(i) {
      const info = manifest.chunks[i]
      let b: Buffer
      try {
        b = await readFile(join(dir, chunkFileName(i)))
      } catch (e) {
        throw new SnapshotError(
          SnapshotErrorCode.TRUNCATED,
          `chunk ${i} is missing: ${join(dir, chunkFileName(i))}`,
          { cause: e, details: { chunk: i } },
        )
      }
      if (info && b.length < info.compressedSize) {
        truncated(`chunk ${i} has ${b.length} bytes, the manifest says ${info.compressedSize}`)
      }
      return new Uint8Array(b.buffer, b.byteOffset, b.length)
    },
  }
}

/** Reads a packed snapshot file. */
async function openPacked(file: string): Promise<ChunkSource> {
  const fh: FileHandle = await open(file, 'r')
  try {
    const size = (await fh.stat()).size
    const head = new Uint8Array(PACK_HEADER_SIZE)
    await fh.read(head, 0, PACK_HEADER_SIZE, 0)
    if (size < PACK_HEADER_SIZE || !equal(head.subarray(0, 4), PACK_MAGIC)) {
      throw new SnapshotError(
        SnapshotErrorCode.CORRUPT,
        `${file} is not a packed snapshot (bad magic)`,
      )
    }
    if (size < PACK_HEADER_SIZE + PACK_TRAILER_SIZE)
      truncated(`${file} is truncated (${size} bytes)`)
    const tr = new Uint8Array(PACK_TRAILER_SIZE)
    await fh.read(tr, 0, PACK_TRAILER_SIZE, size - PACK_TRAILER_SIZE)
    if (!equal(tr.subarray(12, 16), PACK_MAGIC)) {
      truncated(`${file} has no trailer: the file is truncated or still being written`)
    }
    const dv = new DataView(tr.buffer)
    const mOff = Number(dv.getBigUint64(0))
    const mLen = dv.getUint32(8)
    if (mOff + mLen + PACK_TRAILER_SIZE !== size) {
      throw new SnapshotError(SnapshotErrorCode.CORRUPT, `${file}: trailer points outside the file`)
    }
    const mb = new Uint8Array(mLen)
    await fh.read(mb, 0, mLen, mOff)
    const manifest = decodeManifest(mb)
    if (PACK_HEADER_SIZE + manifest.totalCompressedSize !== mOff) {
      truncated(`${file}: the chunk area does not match the manifest's sizes`)
    }
    const offsets: number[] = []
    let o = PACK_HEADER_SIZE
    for (const c of manifest.chunks) {
      offsets.push(o)
      o += c.compressedSize
    }
    return {
      async manifest() {
        return manifest
      },
      async chunk(i) {
        const info = manifest.chunks[i]
        if (!info) truncated(`chunk ${i} is not in the manifest`)
        const b = new Uint8Array(info.compressedSize)
        const { bytesRead } = await fh.read(b, 0, b.length, offsets[i])
        if (bytesRead !== b.length) truncated(`chunk ${i} is cut short in ${file}`)
        return b
      },
      async close() {
        await fh.close()
      },
    }
  } catch (e) {
    await fh.close().catch(() => {})
    throw e
  }
}

/**
 * Opens a snapshot folder or packed file for reading.
 * @example
 * const src = await openSnapshot('/data/snapshots/1000')
 * const manifest = await src.manifest()
 */
export async function openSnapshot(path: string): Promise<ChunkSource> {
  let st: Awaited<ReturnType<typeof stat>>
  try {
    st = await stat(path)
  } catch (e) {
    throw new SnapshotError(SnapshotErrorCode.NOT_FOUND, `no snapshot at ${path}`, { cause: e })
  }
  return st.isDirectory() ? openDir(path) : openPacked(path)
}

/**
 * Reads only the manifest of a snapshot folder or file.
 * @example
 * const { height, stateRoot } = await readManifest('/data/snapshots/1000')
 */
export async function readManifest(path: string): Promise<SnapshotManifest> {
  const src = await openSnapshot(path)
  try {
    return await src.manifest()
  } finally {
    await src.close?.()
  }
}

/** One entry of {@link listSnapshots}. */
export interface SnapshotListEntry {
  path: string
  manifest: SnapshotManifest
}

/**
 * The snapshots (folders and packed files) directly inside `dir`, by height; entries that are
 * not snapshots (or unfinished ones) are skipped.
 * @example
 * for (const s of await listSnapshots('/data/snapshots')) console.log(s.path, s.manifest.height)
 */
export async function listSnapshots(dir: string): Promise<SnapshotListEntry[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  const out: SnapshotListEntry[] = []
  for (const name of names.sort()) {
    const p = join(dir, name)
    try {
      out.push({ path: p, manifest: await readManifest(p) })
    } catch {
      // not a (finished) snapshot
    }
  }
  return out.sort((a, b) =>
    a.manifest.height < b.manifest.height ? -1 : a.manifest.height > b.manifest.height ? 1 : 0,
  )
}

/**
 * Packs a snapshot folder into one file (chunks streamed one at a time).
 * @example
 * await packSnapshot({ dir: '/data/snapshots/1000', file: '/tmp/state-1000.aursnap' })
 */
export async function packSnapshot(opts: { dir: string; file: string }): Promise<void> {
  const src = await openDir(opts.dir)
  const manifest = await src.manifest()
  const sink = await createFileSink(opts.file)
  try {
    for (let i = 0; i < manifest.chunks.length; i++) await sink.writeChunk(i, await src.chunk(i))
    await sink.finish(new Uint8Array(await readFile(join(opts.dir, MANIFEST_FILE))))
  } catch (e) {
    await sink.abort()
    throw e
  }
}

/**
 * Unpacks a packed snapshot file into a folder.
 * @example
 * await unpackSnapshot({ file: '/tmp/state-1000.aursnap', dir: '/data/snapshots/1000' })
 */
export async function unpackSnapshot(opts: { file: string; dir: string }): Promise<void> {
  const src = await openPacked(opts.file)
  const sink = await createDirSink(opts.dir)
  try {
    const manifest = await src.manifest()
    for (let i = 0; i < manifest.chunks.length; i++) await sink.writeChunk(i, await src.chunk(i))
    await sink.finish(encodeManifest(manifest))
  } catch (e) {
    await sink.abort()
    throw e
  } finally {
    await src.close?.()
  }
}
