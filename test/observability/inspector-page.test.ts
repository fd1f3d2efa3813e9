/**
 * The inspector page in a real headless Chromium (Debian's, driven by playwright-core; no
 * browser is ever downloaded): served by the Express purge router, fed by scripted traffic.
 * It must show the hit-rate chart, top paths by hits and bytes, recent bypass reasons, the
 * breaker state and the store's health, hit ratios per route and the fault history (breaker
 * transitions and a failed invalidation, from a store switched off and on again), and its purge
 * buttons must remove entries. A screenshot is saved to __screenshots__/inspector.png (gitignored:
 * an artefact to look at, not a fixture) and checked to be a PNG of the page's size.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import express from 'express'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Cache, MemoryStore, cacheMiddleware, cachedRoute, purgeRouter } from '@cachewire/express'
import { FlakyStore } from '../helpers/flaky-store.js'
import { listen, request } from '../helpers/servers.js'
import { CHROMIUM, describeWithBinary } from '../setup/binaries.js'

const TOKEN = 'inspector-token-0123456789'
const SCREENSHOTS = fileURLToPath(new URL('./__screenshots__/', import.meta.url))

describeWithBinary(CHROMIUM, 'the inspector page in headless Chromium', (executablePath) => {
  let browser: Browser
  let page: Page
  let url: string
  let middleware: ReturnType<typeof cacheMiddleware>
  // The store guards itself (breakers live in the stores that need them, issue 13).
  const store = new FlakyStore(new MemoryStore(), {
    breaker: { failureThreshold: 2, breakDuration: '300ms' },
  })

  beforeAll(async () => {
    middleware = cacheMiddleware({ ttl: '1m', storage: { cache: new Cache({ store }) } })
    const app = express()
    app.use('/_cache', purgeRouter({ engine: middleware.engine, token: TOKEN, log: () => {} }))
    app.use(middleware)
    app.get('/products', cachedRoute({ name: 'products' }), (_req, res) =>
      res.set('surrogate-key', 'products').json({ items: Array.from({ length: 200 }, (_, i) => i) })
    )
    app.get('/about', cachedRoute({ name: 'about' }), (_req, res) =>
      res.type('text/plain').send('about us')
    )
    app.get('/account', (_req, res) => res.set('cache-control', 'private').send('yours'))
    ;({ url } = await listen(app))
    // Root in a container: Chromium's sandbox needs user namespaces it may not have.
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
  })

  async function traffic(): Promise<void> {
    for (const path of ['/products', '/about', '/account']) await request(`${url}${path}`)
    await middleware.whenIdle()
    for (let i = 0; i < 4; i++) await request(`${url}/products`)
    await request(`${url}/about`)
    await request(`${url}/about`, { headers: { cookie: 'session=1' } })
  }

  /** The text of each row of a table, cells joined by |. */
  function rows(table: string): Promise<string[]> {
    return page.$$eval(`#${table} tr`, (trs) =>
      trs.map((tr) => Array.from(tr.children, (td) => (td.textContent ?? '').trim()).join('|'))
    )
  }

  function summary(name: string): Promise<string | undefined> {
    return rows('summary').then(
      (all) => all.find((row) => row.startsWith(`${name}|`))?.split('|')[1]
    )
  }

  it('shows the hit rate chart, top paths, recent reasons and the breaker state', async () => {
    await traffic()
    await page.goto(`${url}/_cache/inspector?token=${TOKEN}`)
    // The token is taken once and dropped from the address bar.
    expect(page.url()).toBe(`${url}/_cache/inspector`)
    // 5 hits of 8 reads (3 misses).
    await expect.poll(() => page.textContent('#rate')).toBe('62.5%')
    expect(await page.locator('#chart #rate-line').count()).toBe(1)
    await expect.poll(() => page.textContent('#breaker')).toBe('closed')
    expect(await page.getAttribute('#breaker', 'class')).toContain('closed')

    const byHits = await rows('byHits')
    expect(byHits[0]).toBe('path|hits|bytes|')
    expect(byHits[1]).toMatch(/^\/products\|4\|[\d.]+ (B|KiB)\|purge$/)
    expect(byHits[2]).toMatch(/^\/about\|1\|/)
    const byBytes = await rows('byBytes')
    expect(byBytes[1]).toMatch(/^\/products\|/)

    const reasons = await rows('reasons')
    expect(reasons.some((row) => /\|bypass\|cookie\|\/about$/.test(row))).toBe(true)
    expect(reasons.some((row) => /\|not-stored\|private\|\/account$/.test(row))).toBe(true)
    expect(await summary('entries')).toBe('2')

    // A second poll after more hits draws a line of two points, going up.
    for (let i = 0; i < 8; i++) await request(`${url}/products`)
    await expect
      .poll(() => page.getAttribute('#rate-line', 'd'), { timeout: 6_000 })
      .toMatch(/^M\S+ \S+ L/)
    await mkdir(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: `${SCREENSHOTS}inspector.png`, fullPage: true })
  })

  it('purges a path with its purge button: the entry is gone from the cache', async () => {
    expect((await request(`${url}/products`)).headers['cache-status']).toMatch(/; hit/)
    await page
      .locator('#byHits tr', { hasText: '/products' })
      .getByRole('button', { name: 'purge' })
      .click()
    await expect.poll(() => page.textContent('#purgeResult')).toContain('"count": 1')
    expect(JSON.parse((await page.textContent('#purgeResult')) ?? '')).toMatchObject({
      ok: true,
      kind: 'url',
      targets: ['/products'],
      dryRun: false,
      count: 1,
    })
    await expect.poll(() => summary('entries')).toBe('1')
    expect((await request(`${url}/products`)).headers['cache-status']).toMatch(/fwd=uri-miss/)
  })

  it('purges by tag from the form, with a dry run first', async () => {
    await middleware.whenIdle()
    expect((await request(`${url}/products`)).headers['cache-status']).toMatch(/; hit/)
    await page.selectOption('#kind', 'tags')
    await page.fill('#target', 'products')
    await page.click('#purge button')
    await expect.poll(() => page.textContent('#purgeResult')).toContain('"dryRun": true')
    expect(JSON.parse((await page.textContent('#purgeResult')) ?? '')).toMatchObject({
      kind: 'tags',
      count: 1,
      dryRun: true,
    })
    expect((await request(`${url}/products`)).headers['cache-status']).toMatch(/; hit/)
    await page.uncheck('#dry')
    await page.click('#purge button')
    await expect.poll(() => page.textContent('#purgeResult')).toContain('"dryRun": false')
    expect((await request(`${url}/products`)).headers['cache-status']).toMatch(/fwd=uri-miss/)
    expect(middleware.engine.observer.stats().purges).toEqual({ url: 1, tags: 1 })
  })

  it("shows hit ratios per route, the store's health and the fault history of an outage", async () => {
    await middleware.whenIdle()
    for (let i = 0; i < 3; i++) await request(`${url}/about`)
    // The store goes away: an invalidation is queued, then reads fail until the breaker opens.
    store.failing = true
    await middleware.invalidateTags(['products'])
    for (let i = 0; i < 3; i++) expect((await request(`${url}/products`)).status).toBe(200)
    expect(middleware.cache.stats().breaker).toBe('open')
    // Back: after the break a probe goes through and closes the breaker.
    store.failing = false
    await new Promise((resolve) => setTimeout(resolve, 350))
    await request(`${url}/products`)
    await middleware.whenIdle()
    await request(`${url}/products`)
    expect(middleware.cache.stats().breaker).toBe('closed')

    await page.goto(`${url}/_cache/inspector?token=${TOKEN}`)
    await expect.poll(() => page.textContent('#health')).toBe('ok')
    expect(await page.textContent('#store-health')).toMatch(/flaky, in process/)
    const routes = await rows('routes')
    expect(routes[0]).toBe('route|hits|misses|bypasses|hit ratio')
    const byRoute = Object.fromEntries(
      routes.slice(1).map((line) => [line.split('|')[0], line.split('|')])
    )
    expect(Object.keys(byRoute)).toEqual(expect.arrayContaining(['products', 'about', 'default']))
    const stats = middleware.engine.observer.stats().routes
    for (const route of stats) {
      expect(byRoute[route.route]?.slice(1, 4)).toEqual([
        String(route.hit + route.stale),
        String(route.miss + route.revalidated),
        String(route.bypass),
      ])
      expect(byRoute[route.route]?.[4]).toBe(`${(route.hitRate * 100).toFixed(1)}%`)
    }
    expect(Number(byRoute['about']?.[1])).toBeGreaterThanOrEqual(3)
    const faults = await rows('faults')
    expect(faults[0]).toBe('when|kind|detail')
    const details = faults.slice(1).map((line) => line.split('|').slice(1).join('|'))
    // Most recent first: the breaker opened, let a probe through, closed; the purge waited, then went through.
    const breaker = details.filter((detail) => detail.startsWith('breaker|'))
    expect(breaker.slice(0, 3)).toEqual([
      'breaker|half-open → closed (read on flaky)',
      'breaker|open → half-open (read on flaky)',
      'breaker|closed → open (read on flaky)',
    ])
    expect(details).toContainEqual(
      expect.stringMatching(
        /^invalidation-queued\|tags products waits \(1 queued\): store invalidate(Tags)? failed: flaky store: invalidateTags refused/
      )
    )
    expect(details).toContainEqual(
      expect.stringMatching(/^invalidation-applied\|tags products applied after \d+ ms/)
    )
    // A second poll draws the hit-rate line before the picture is taken.
    await expect.poll(() => page.getAttribute('#rate-line', 'd'), { timeout: 6_000 }).toMatch(/ L/)

    await mkdir(SCREENSHOTS, { recursive: true })
    const path = `${SCREENSHOTS}inspector.png`
    await page.screenshot({ path, fullPage: true })
    const png = await readFile(path)
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    )
    expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR')
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)]
    const pageHeight = await page.evaluate(() => document.documentElement.scrollHeight)
    expect(width).toBe(1280)
    expect(height).toBe(Math.max(900, pageHeight))
    expect(png.length).toBeGreaterThan(20_000)
  })

  it('shows an error and no data with a wrong token', async () => {
    const other = await browser.newPage()
    await other.goto(`${url}/_cache/inspector?token=wrong-token-0123456789`)
    await expect.poll(() => other.textContent('#error')).toMatch(/unauthorized/)
    expect(await other.textContent('#rate')).toBe('–')
    expect(await other.locator('#byHits tr').count()).toBe(0)
    await other.close()
  })
})
