import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  defaultNodeConfig,
  flagsToConfig,
  loadNodeConfig,
  mergeConfig,
} from '../src/config.js'
import { removeDir, tempDir } from './helpers.js'

describe('[config]: defaults, TOML file, flags', () => {
  it('has defaults for every subsystem', () => {
    const c = loadNodeConfig()
    expect(c.rpc).toEqual(defaultNodeConfig.rpc)
    expect(c.rpc.host).toBe('127.0.0.1')
    expect(c.consensus.engine).toBe('dev')
  })

  it('reads a TOML file and lets flags override it; paths resolve against the file', () => {
    const dir = tempDir('config')
    try {
      const file = join(dir, 'config.toml')
      writeFileSync(
        file,
        'dataDir = "data"\nkey = "k.json"\n[rpc]\nport = 9000\n[consensus]\nengine = "bft"\n',
      )
      const c = loadNodeConfig({ file, flags: { 'rpc.port': '9100' } })
      expect(c.rpc.port).toBe(9100)
      expect(c.consensus.engine).toBe('bft')
      expect(c.dataDir).toBe(join(dir, 'data'))
      expect(c.key).toBe(join(dir, 'k.json'))
    } finally {
      removeDir(dir)
    }
  })

  it('refuses unknown options, wrong types and bad TOML with ERR_CONFIG', () => {
    expect(() => mergeConfig(defaultNodeConfig, { rpc: { prot: 1 } })).toThrow(
      /unknown option rpc.prot/,
    )
    expect(() => mergeConfig(defaultNodeConfig, { rpc: { port: 'abc' } })).toThrow(ConfigError)
    expect(() => mergeConfig(defaultNodeConfig, { rpc: { enabled: 'maybe' } })).toThrow(
      /true or false/,
    )
    expect(() => mergeConfig(defaultNodeConfig, { p2p: { bootstrap: 'x' } })).toThrow(/list/)
    const dir = tempDir('config')
    try {
      const file = join(dir, 'bad.toml')
      writeFileSync(file, '[rpc\nport=')
      expect(() => loadNodeConfig({ file })).toThrow(/not valid TOML/)
      expect(() => loadNodeConfig({ file: join(dir, 'missing.toml') })).toThrow(/cannot read/)
    } finally {
      removeDir(dir)
    }
  })

  it('turns dotted flags into nested options', () => {
    expect(flagsToConfig({ 'rpc.port': '1', dataDir: 'x', skip: undefined })).toEqual({
      rpc: { port: '1' },
      dataDir: 'x',
    })
  })

  it('has state sync and snapshot options, checked', () => {
    const c = loadNodeConfig({
      flags: {
        'sync.mode': 'snapshot',
        'sync.trustedStateRoot': `0x${'ab'.repeat(32)}`,
        'snapshots.chunkSize': '4096',
      },
    })
    expect(c.sync.mode).toBe('snapshot')
    expect(c.sync.minPeers).toBe(2)
    expect(c.snapshots.chunkSize).toBe(4096)
    expect(c.snapshots.serve).toBe(true)
    expect(loadNodeConfig().sync.mode).toBe('full')
    expect(() => loadNodeConfig({ flags: { 'sync.mode': 'fast' } })).toThrow(/sync.mode/)
    expect(() => loadNodeConfig({ flags: { 'snapshots.chunkSize': '100' } })).toThrow(/chunkSize/)
    expect(() => loadNodeConfig({ flags: { 'sync.trustedBlockHash': '0x12' } })).toThrow(/32 bytes/)
  })
})

describe('[cli flags]: a bad flag is refused with ERR_CONFIG', () => {
  it('init and keys new refuse out-of-range flags with a coded error', async () => {
    const { initHandler } = await import('../src/cmds/init/handler.js')
    const { keysNew } = await import('../src/cmds/keys/handler.js')
    const dir = tempDir('cli-flags')
    const out = join(dir, 'x')
    await expect(
      initHandler({ validators: '0', engine: 'bft', out } as never, true),
    ).rejects.toMatchObject({ code: 'ERR_CONFIG', message: '--validators must be 1..100' })
    await expect(
      initHandler({ validators: '2', engine: 'nope', out } as never, true),
    ).rejects.toMatchObject({ code: 'ERR_CONFIG' })
    await expect(keysNew({ out, type: 'rsa' })).rejects.toBeInstanceOf(ConfigError)
    removeDir(dir)
  })
})
