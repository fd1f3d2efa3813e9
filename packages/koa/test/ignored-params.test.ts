/**
 * DESIGN rule 2 / issue 14: a query parameter the key ignores (`utm_*`, `fbclid`, `gclid` by
 * default) must not reach the handler, or it could be reflected into a shared entry. Koa copies
 * the target into `ctx.originalUrl` and `ctx.request.originalUrl` when the context is made and
 * memoises `ctx.URL` on first read; `ctx.url`, `ctx.path`, `ctx.querystring`, `ctx.search`,
 * `ctx.query` and `ctx.href` derive from those. Each must agree once the cache has run.
 */
import Router from '@koa/router'
import { describe, expect, it } from 'vitest'
import { responseCache, type CacheContext } from '../src/index.js'
import { KOAS, manualClock, serve } from './helpers.js'

/** A clock that stands still, so ttl and Age are exact. */
const clock = (): number => 1_900_000_000_000

/** Everything a handler could read about the target. */
function seen(ctx: CacheContext): void {
  ctx.set('cache-control', 'max-age=60')
  ctx.body = {
    url: ctx.url,
    originalUrl: ctx.originalUrl,
    requestOriginalUrl: ctx.request.originalUrl,
    path: ctx.path,
    querystring: ctx.querystring,
    search: ctx.search,
    query: ctx.query,
    href: ctx.href.replace(/^http:\/\/[^/]+/, ''),
    URL: `${ctx.URL.pathname}${ctx.URL.search}`,
  }
}

describe.each(KOAS)('ignored query parameters never reach the handler, on $name', ({ Koa }) => {
  it('every derived view of the target has none of them, even a URL memoised before the cache; the clean URL gets the same entry', async () => {
    const app = new Koa()
    const cache = responseCache({ clock })
    // Middleware before the cache that reads ctx.URL memoises it.
    app.use(async (ctx, next) => {
      void ctx.URL
      void ctx.query
      await next()
    })
    app.use(cache.middleware())
    app.use(seen)
    const served = await serve(app)
    const attack = await served.request('/items?id=7&utm_source=%3Cscript%3E&gclid=evil')
    expect(JSON.parse(attack.text)).toEqual({
      url: '/items?id=7',
      originalUrl: '/items?id=7',
      requestOriginalUrl: '/items?id=7',
      path: '/items',
      querystring: 'id=7',
      search: '?id=7',
      query: { id: '7' },
      href: '/items?id=7',
      URL: '/items?id=7',
    })
    await cache.whenIdle()
    const clean = await served.request('/items?id=7')
    expect(clean.headers['cache-status']).toBe('cachewire; hit; ttl=60')
    expect(clean.text).toBe(attack.text)
  })

  it('behind a router prefix and on a route policy', async () => {
    const app = new Koa()
    const cache = responseCache({ clock })
    const router = new Router({ prefix: '/shop' })
    router.get('/items', cache.route({ ttl: '1m' }), seen)
    app.use(router.routes())
    const served = await serve(app)
    const view = JSON.parse((await served.request('/shop/items?fbclid=x&id=7')).text) as Record<
      string,
      unknown
    >
    expect([view.originalUrl, view.url, view.query]).toEqual([
      '/shop/items?id=7',
      '/shop/items?id=7',
      { id: '7' },
    ])
  })

  it('a revalidation and a background refresh run without them too', async () => {
    const time = manualClock()
    const cache = responseCache({ clock: time.now })
    const app = new Koa()
    app.use(cache.middleware())
    const urls: string[] = []
    app.use((ctx) => {
      urls.push(`${ctx.originalUrl} ${JSON.stringify(ctx.query)}`)
      ctx.set({
        'cache-control': 'max-age=10, stale-while-revalidate=30',
        etag: `"r${urls.length}"`,
      })
      ctx.body = 'ok'
    })
    const served = await serve(app)
    await served.request('/r?x=1&utm_source=a')
    await cache.whenIdle()
    time.advance(20_000)
    await served.request('/r?x=1&utm_source=b')
    await cache.whenIdle()
    time.advance(60_000)
    await served.request('/r?utm_source=c&x=1')
    await cache.whenIdle()
    expect(urls).toEqual(['/r?x=1 {"x":"1"}', '/r?x=1 {"x":"1"}', '/r?x=1 {"x":"1"}'])
  })

  it('a request that goes around the cache is left as it came', async () => {
    const app = new Koa()
    const cache = responseCache({ clock })
    app.use(cache.middleware())
    app.use(seen)
    const served = await serve(app)
    const view = JSON.parse(
      (await served.request('/b?utm_source=x', { headers: { cookie: 'a=1' } })).text
    ) as Record<string, unknown>
    expect(view.originalUrl).toBe('/b?utm_source=x')
  })
})
