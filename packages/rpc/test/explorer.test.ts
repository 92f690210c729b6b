import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addr, type Ctx, hex, mockTransfer, startMock } from './helpers.js'

const CHROMIUM = '/usr/bin/chromium'
const present = existsSync(CHROMIUM)
// In CI a missing browser is a failure, never a silent pass; locally the test is skipped.
const inCI = !!process.env.CI

describe('[Explorer]: page in headless Chromium', () => {
  it.runIf(!present && inCI)('has Chromium installed at /usr/bin/chromium (CI)', () => {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`,
    )
  })

  describe.runIf(present)('live', () => {
    let c: Ctx
    let ctx: BrowserContext
    let dir: string
    beforeAll(async () => {
      c = await startMock()
      await c.backend.mine()
      dir = mkdtempSync(join(tmpdir(), 'aureon-chromium-'))
      ctx = await chromium.launchPersistentContext(dir, {
        executablePath: CHROMIUM,
        headless: true,
        timeout: 30_000,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      })
    })
    afterAll(async () => {
      await ctx?.close()
      await c?.server.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('loads, shows a new block live, and finds a transaction by hash', async () => {
      const page = await ctx.newPage()
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(c.url + '/')
      await page.waitForSelector('#blocks tr[data-h="1"]')
      expect(await page.textContent('#head-height')).toBe('1')
      await page.waitForSelector('#live.on')
      // a block made after the page loaded appears without a reload
      const { bytes, sender } = mockTransfer(3, 0n, addr(4), 9n)
      c.backend.setAccount(sender, { balance: 1000n })
      const sent = await c.client.sendTx({ tx: hex(bytes) })
      await c.backend.mine()
      await page.waitForSelector('#blocks tr[data-h="2"]', { timeout: 10_000 })
      expect(await page.textContent('#head-height')).toBe('2')
      // search by tx hash
      await page.fill('#q', sent.hash)
      await page.click('#search button')
      await page.waitForSelector('text=Receipt')
      const text = (await page.textContent('#app')) ?? ''
      expect(text).toContain(sent.hash)
      expect(text).toContain('included')
      // search by height and by address
      await page.fill('#q', '2')
      await page.click('#search button')
      await page.waitForSelector('text=Block #2')
      await page.fill('#q', hex(addr(4)))
      await page.click('#search button')
      await page.waitForSelector('text=Balance')
      expect(await page.textContent('#app')).toContain('9')
      await page.fill('#q', 'nonsense')
      await page.click('#search button')
      await page.waitForSelector('.err')
      expect(errors).toEqual([])
    })
  })
})
