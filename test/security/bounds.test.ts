/**
 * Key explosion: Vary variants per URL, cache-busting parameters and paths. Each bound must hold
 * (entries stay few, useful entries survive) and be visible (`engine.counters()`). The million-URL
 * flood goes through the engine directly, in cardinality-engine.test.ts.
 */
import { expect, it } from 'vitest'
import { CURRENT, eachTarget, isHit, keysUnder, send, type SecurityApp } from './harness.js'

/** Runs `count` requests, `width` at a time. */
async function flood(
  count: number,
  width: number,
  one: (i: number) => Promise<void>
): Promise<void> {
  for (let start = 0; start < count; start += width) {
    await Promise.all(
      Array.from({ length: Math.min(width, count - start) }, (_, j) => one(start + j))
    )
  }
}

/** Entry keys (not tag sets) an app holds in Redis. */
async function entryKeys(
  app: SecurityApp,
  redis: () => import('ioredis').Redis
): Promise<string[]> {
  if (app.prefix === undefined) return []
  return (await keysUnder(redis(), app.prefix)).filter((key) => key.startsWith(`${app.prefix}k:`))
}

eachTarget((target) => {
  it('1,000 distinct Accept-Language values on a Vary route: maxVariants caps the stored variants, counters show it', async () => {
    const app = await target.app()
    const languages = Array.from({ length: 1000 }, (_, i) => `x-lang-${i}`)
    // One at a time until the cap is reached (so each miss sees the previous store and the count
    // is exact), then the rest 50 at a time: every one of them sees a full index.
    for (const lang of languages.slice(0, 40)) {
      const res = await send(app, '/vary-lang', { headers: { 'accept-language': lang } })
      expect(res.text).toBe(`lang:${lang}`)
      await app.whenIdle()
    }
    await flood(960, 50, async (i) => {
      const lang = languages[40 + i] as string
      const res = await send(app, '/vary-lang', { headers: { 'accept-language': lang } })
      expect(res.text).toBe(`lang:${lang}`)
    })
    await app.whenIdle()
    expect(app.engine.counters()['variant-cap']).toBe(1000 - 32)
    // The first 32 are hits; the rest are still served correctly, uncached (checked on the first 100).
    const before = app.runs.get('/vary-lang') ?? 0
    await flood(100, 50, async (i) => {
      const res = await send(app, '/vary-lang', {
        headers: { 'accept-language': languages[i] as string },
      })
      expect(res.text).toBe(`lang:${languages[i]}`)
      expect(isHit(res)).toBe(i < 32)
    })
    expect((app.runs.get('/vary-lang') ?? 0) - before).toBe(100 - 32)
    if (app.prefix !== undefined) expect((await entryKeys(app, target.redis)).length).toBe(32 + 2) // variants, the Vary index and the URL's bounded set of variants
  })

  it('1,000 concurrent Accept-Language values: the variant count stays bounded under races', async () => {
    const app = await target.app({ storage: { maxVariants: 8 } })
    await flood(1000, 50, async (i) => {
      const res = await send(app, '/vary-lang', { headers: { 'accept-language': `c-${i}` } })
      expect(res.text).toBe(`lang:c-${i}`)
    })
    await app.whenIdle()
    expect(app.engine.counters()['variant-cap']).toBeGreaterThanOrEqual(1000 - 8 * 50)
    if (app.prefix !== undefined)
      expect((await entryKeys(app, target.redis)).length).toBeLessThanOrEqual(8 * 50 + 1)
  })

  it('2,000 cache-busting query strings: the cardinality guard refuses past its limit, and a useful entry survives', async () => {
    const app = await target.app({ safety: { maxKeysPerWindow: { keys: 100, window: '1m' } } })
    const useful = await send(app, '/bust?page=1')
    expect(useful.status).toBe(200)
    await app.whenIdle()
    await flood(2000, 50, async (i) => {
      const res = await send(app, `/bust?cb=${i}`)
      expect(res.text).toBe(`path:/bust?cb=${i}`)
    })
    await app.whenIdle()
    // 1 useful + 99 busting keys admitted; the other 1,901 served uncached.
    expect(app.engine.counters().cardinality).toBe(1901)
    const again = await send(app, '/bust?page=1')
    expect(isHit(again)).toBe(true)
    if (app.prefix !== undefined) expect((await entryKeys(app, target.redis)).length).toBe(100)
  })
  it('a response with a header section past storage.maxHeaderBytes is served but not stored, and counted', async () => {
    const app = await target.app({ storage: { maxHeaderBytes: 8192 } })
    for (let i = 0; i < 3; i++) {
      const res = await send(app, '/big-headers')
      expect(res.text).toBe('big')
      expect(res.headers['x-big']).toHaveLength(12_000)
      expect(isHit(res)).toBe(false)
      await app.whenIdle()
    }
    expect(app.runs.get('/big-headers')).toBe(3)
    expect(app.engine.counters()['headers-too-large']).toBe(3)
    // Under the default (16 KiB) the same response is stored.
    const small = await target.app()
    await send(small, '/big-headers')
    await small.whenIdle()
    expect(isHit(await send(small, '/big-headers'))).toBe(true)
  })

  // Thousands of requests per test: the current majors carry it; Express 4 and Koa 2 share the code path.
}, CURRENT)
