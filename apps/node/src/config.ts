import { readFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { parse as parseTOML } from 'smol-toml'

/** Options of the RPC server. */
export interface RPCConfig {
  enabled: boolean
  host: string
  port: number
  cors: string[]
}

/** Options of the libp2p host. */
export interface P2PConfig {
  enabled: boolean
  listen: string[]
  bootstrap: string[]
}

/** Options of the consensus engine. */
export interface ConsensusConfig {
  engine: 'dev' | 'poa' | 'bft' | 'pow'
  /** dev engine: seal every N ms instead of as soon as transactions arrive (0 = automine). */
  blockTime: number
  /** BFT base round timeout in ms. */
  roundTimeout: number
}

/** Automatic snapshots. */
export interface SnapshotConfig {
  /** Take a snapshot every N committed blocks (0 = never). */
  every: number
  /** Keep the last K snapshots. */
  keep: number
  /**
   * Most uncompressed bytes per chunk (0 = {@link DEFAULT_SNAPSHOT_CHUNK_SIZE}; 4096..4 MiB). Keep
   * it at 2 MiB or less on nodes that serve state sync: a libp2p stream resets a response larger
   * than its 4 MiB read buffer.
   */
  chunkSize: number
  /** Serve this node's snapshots to state-syncing peers over p2p. */
  serve: boolean
}

/** How a node with an empty data folder gets the chain. */
export interface SyncConfig {
  /**
   * 'full': execute every block from genesis. 'snapshot': state sync (fetch a verified state
   * snapshot from peers, continue from its height, then block-sync to the head).
   */
  mode: 'full' | 'snapshot'
  /** Trusted snapshot height (0 = any). */
  trustedHeight: number
  /** Trusted state root (hex; '' = none: the root most peers offer is taken). */
  trustedStateRoot: string
  /** Trusted block hash (hex; '' = none). */
  trustedBlockHash: string
  /** Peers to wait for before choosing a snapshot. */
  minPeers: number
  /** How long to wait for peers and snapshot offers, ms. */
  timeout: number
  /** Chunks fetched at once. */
  concurrency: number
}

export interface LogConfig {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
  /** Human-readable output; defaults to true on a TTY. */
  pretty?: boolean
}

/** Everything a node needs to start: one options object per subsystem, each with defaults. */
export interface NodeConfig {
  dataDir: string
  /** genesis.json path; relative paths resolve against the config file's folder. */
  genesis: string
  /** ed25519 key file (account, proposals, VRF, libp2p identity); '' for none. Relative to the config file. */
  key: string
  /** BLS key file (bft votes); '' for none. Relative to the config file. */
  blsKey: string
  rpc: RPCConfig
  p2p: P2PConfig
  consensus: ConsensusConfig
  snapshots: SnapshotConfig
  sync: SyncConfig
  log: LogConfig
}

export const defaultRPCConfig: RPCConfig = {
  enabled: true,
  host: '127.0.0.1',
  port: 8545,
  cors: [],
}
export const defaultP2PConfig: P2PConfig = {
  enabled: true,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: [],
}
export const defaultConsensusConfig: ConsensusConfig = {
  engine: 'dev',
  blockTime: 0,
  roundTimeout: 1000,
}
/** Chunk size of the node's own snapshots: compressed chunks always fit one p2p response. */
export const DEFAULT_SNAPSHOT_CHUNK_SIZE = 2 * 1024 * 1024
export const defaultSnapshotConfig: SnapshotConfig = {
  every: 0,
  keep: 3,
  chunkSize: 0,
  serve: true,
}
export const defaultSyncConfig: SyncConfig = {
  mode: 'full',
  trustedHeight: 0,
  trustedStateRoot: '',
  trustedBlockHash: '',
  minPeers: 2,
  timeout: 30_000,
  concurrency: 8,
}
export const defaultLogConfig: LogConfig = { level: 'info' }

export const defaultNodeConfig: NodeConfig = {
  dataDir: './.aureon',
  genesis: 'genesis.json',
  key: '',
  blsKey: '',
  rpc: defaultRPCConfig,
  p2p: defaultP2PConfig,
  consensus: defaultConsensusConfig,
  snapshots: defaultSnapshotConfig,
  sync: defaultSyncConfig,
  log: defaultLogConfig,
}

/** A configuration error a user caused: a bad file, a bad flag. */
/** Whether `v` is 32 bytes in hex (64 hex digits, optionally after 0x): a hash in config or a flag. */
export function isHash32Hex(v: string): boolean {
  return /^(0x)?[0-9a-fA-F]{64}$/.test(v)
}

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG'
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

type Plain = Record<string, unknown>

function isPlain(x: unknown): x is Plain {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** Deep-merges `over` onto `base`, checking that every key exists in `base` and has its type. */
export function mergeConfig<T>(base: T, over: unknown, path = ''): T {
  if (over === undefined) return base
  if (!isPlain(over)) throw new ConfigError(`${path || 'config'} must be a table`)
  const out: Plain = { ...(base as Plain) }
  for (const [k, v] of Object.entries(over)) {
    const here = path ? `${path}.${k}` : k
    if (!(k in out)) throw new ConfigError(`unknown option ${here}`)
    const cur = out[k]
    if (isPlain(cur)) out[k] = mergeConfig(cur, v, here)
    else if (Array.isArray(cur)) {
      if (!Array.isArray(v)) throw new ConfigError(`${here} must be a list`)
      out[k] = v.map(String)
    } else if (typeof cur === 'number') {
      const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Number(v) : v
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
        throw new ConfigError(`${here} must be a non-negative number, got ${String(v)}`)
      out[k] = n
    } else if (typeof cur === 'boolean') {
      if (v === 'true' || v === true) out[k] = true
      else if (v === 'false' || v === false) out[k] = false
      else throw new ConfigError(`${here} must be true or false, got ${String(v)}`)
    } else {
      out[k] = String(v)
    }
  }
  return out as T
}

/** Turns flat flags (`{ 'rpc.port': '9000' }`) into a nested object. */
export function flagsToConfig(flags: Record<string, unknown>): Plain {
  const out: Plain = {}
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue
    const parts = key.split('.')
    let node = out
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Plain
    node[parts[parts.length - 1]] = value
  }
  return out
}

/**
 * Loads a node configuration: defaults, then the TOML file (if any), then flags. Relative paths
 * in the file resolve against the file's folder.
 */
export function loadNodeConfig(
  opts: { file?: string; flags?: Record<string, unknown> } = {},
): NodeConfig {
  let cfg = defaultNodeConfig
  let base = process.cwd()
  if (opts.file) {
    const file = resolve(opts.file)
    base = resolve(file, '..')
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      throw new ConfigError(`cannot read config file ${file}`)
    }
    let parsed: unknown
    try {
      parsed = parseTOML(text)
    } catch (e) {
      throw new ConfigError(`config file ${file} is not valid TOML: ${(e as Error).message}`)
    }
    cfg = mergeConfig(cfg, parsed)
  }
  const withPaths: NodeConfig = {
    ...cfg,
    dataDir: absolutize(base, cfg.dataDir),
    genesis: absolutize(base, cfg.genesis),
    key: cfg.key ? absolutize(base, cfg.key) : '',
    blsKey: cfg.blsKey ? absolutize(base, cfg.blsKey) : '',
  }
  const flags = flagsToConfig(opts.flags ?? {})
  const merged = mergeConfig(withPaths, flags)
  if (merged.sync.mode !== 'full' && merged.sync.mode !== 'snapshot')
    throw new ConfigError(`sync.mode must be "full" or "snapshot", got ${merged.sync.mode}`)
  const c = merged.snapshots.chunkSize
  if (c !== 0 && (!Number.isInteger(c) || c < 4096 || c > 4 * 1024 * 1024))
    throw new ConfigError(`snapshots.chunkSize must be 0 or 4096..4194304, got ${c}`)
  for (const k of ['trustedStateRoot', 'trustedBlockHash'] as const) {
    const v = merged.sync[k]
    if (v && !isHash32Hex(v)) throw new ConfigError(`sync.${k} must be 32 bytes of hex, got ${v}`)
  }
  return {
    ...merged,
    dataDir: resolve(merged.dataDir),
    genesis: resolve(merged.genesis),
    key: merged.key ? resolve(merged.key) : '',
    blsKey: merged.blsKey ? resolve(merged.blsKey) : '',
  }
}

function absolutize(base: string, p: string): string {
  return isAbsolute(p) ? p : join(base, p)
}
