/**
 * The inspector page in a real headless Chromium (Debian's, driven by playwright-core; no
 * browser is ever downloaded): served by the Express purge router, fed by scripted traffic.
 * It must show the hit-rate chart, top paths by hits and bytes, recent bypass reasons and the
 * breaker state, and its purge buttons must remove entries. A screenshot is saved to
 * __screenshots__/inspector.png (gitignored: it is an artefact to look at, not a fixture).
 */
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import express from 'express'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Cache, MemoryStore, cacheMiddleware, purgeRouter } from '@cachewire/express'
import { listen, request } from '../helpers/servers.js'
import { CHROMIUM, describeWithBinary } from '../setup/binaries.js'

const TOKEN = 'inspector-token-0123456789'
const SCREENSHOTS = fileURLToPath(new URL('./__screenshots__/', import.meta.url))

describeWithBinary(CHROMIUM, 'the inspector page in headless Chromium', (executablePath) => {
  let browser: Browser
  let page: Page
  let url: string
  let middleware: ReturnType<typeof cacheMiddleware>

  beforeAll(async () => {
    middleware = cacheMiddleware({ ttl: '1m', storage: { cache: new Cache({ store: new MemoryStore() }) } })
    const app = express()
    app.use('/_cache', purgeRouter({ engine: middleware.engine, token: TOKEN, log: () => {} }))
    app.use(middleware)
    app.get('/products', (_req, res) => res.set('surrogate-key', 'products').json({ items: Array.from({ length: 200 }, (_, i) => i) }))
    app.get('/about', (_req, res) => res.type('text/plain').send('about us'))
    app.get('/account', (_req, res) => res.set('cache-control', 'private').send('yours'))
    ;({ url } = await listen(app))
    // Root in a container: Chromium's sandbox needs user namespaces it may not have.
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] })
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
    return page.$$eval(`#${table} tr`, (trs) => trs.map((tr) => Array.from(tr.children, (td) => (td.textContent ?? '').trim()).join('|')))
  }

  function summary(name: string): Promise<string | undefined> {
    return rows('summary').then((all) => all.find((row) => row.startsWith(`${name}|`))?.split('|')[1])
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
    await expect.poll(() => page.getAttribute('#rate-line', 'd'), { timeout: 6_000 }).toMatch(/^M\S+ \S+ L/)
    await mkdir(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: `${SCREENSHOTS}inspector.png`, fullPage: true })
  })

  it('purges a path with its purge button: the entry is gone from the cache', async () => {
    expect((await request(`${url}/products`)).headers['cache-status']).toMatch(/; hit/)
    await page.locator('#byHits tr', { hasText: '/products' }).getByRole('button', { name: 'purge' }).click()
    await expect.poll(() => page.textContent('#purgeResult')).toContain('"count": 1')
    expect(JSON.parse((await page.textContent('#purgeResult')) ?? '')).toMatchObject({ ok: true, kind: 'url', targets: ['/products'], dryRun: false, count: 1 })
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
    expect(JSON.parse((await page.textContent('#purgeResult')) ?? '')).toMatchObject({ kind: 'tags', count: 1, dryRun: true })
    expect((await request(`${url}/products`)).headers['cache-status']).toMatch(/; hit/)
    await page.uncheck('#dry')
    await page.click('#purge button')
    await expect.poll(() => page.textContent('#purgeResult')).toContain('"dryRun": false')
    expect((await request(`${url}/products`)).headers['cache-status']).toMatch(/fwd=uri-miss/)
    expect(middleware.engine.observer.stats().purges).toEqual({ url: 1, tags: 1 })
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
