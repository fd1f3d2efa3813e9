/**
 * DESIGN rule 2 / issue 14: a query parameter the key ignores (`utm_*`, `fbclid`, `gclid` by
 * default) must not reach the handler, or it could be reflected into a shared entry. Express
 * derives the target in several places (`req.url`, `req.originalUrl`, `req.query` — parsed once
 * before any middleware on Express 4, a getter on Express 5 —, `req.path`, and the mount-relative
 * `req.url` inside routers and sub-apps); each must agree once the cache has run.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Request, Response } from 'express'
import { describe, expect, it, onTestFinished } from 'vitest'
import { responseCache } from '../src/index.js'
import { EXPRESS_VERSIONS, listen, request, settle } from './helpers.js'

/** A clock that stands still, so ttl and Age are exact. */
const clock = (): number => 1_900_000_000_000

/** Everything a handler could read about the target, as one line. */
function seen(req: Request, res: Response): void {
  const view = {
    url: req.url,
    originalUrl: req.originalUrl,
    path: req.path,
    query: req.query as unknown,
    baseUrl: req.baseUrl,
  }
  res.set('cache-control', 'max-age=60').json(view)
}

const ATTACK = '/shop/items?id=7&utm_source=%3Cscript%3E&fbclid=evil'
const CLEAN = '/shop/items?id=7'

describe.each(EXPRESS_VERSIONS)(
  'ignored query parameters never reach the handler, on $express',
  ({ create, router }) => {
    it('app-wide middleware: url, originalUrl, query and path have none of them; the clean URL gets the same entry', async () => {
      const app = create()
      const cache = responseCache({ clock })
      app.use(cache.middleware())
      app.get('/shop/items', seen)
      const { url } = await listen(app)
      const attack = await request(url, ATTACK)
      expect(JSON.parse(attack.text)).toEqual({
        url: CLEAN,
        originalUrl: CLEAN,
        path: '/shop/items',
        query: { id: '7' },
        baseUrl: '',
      })
      expect(attack.text).not.toContain('evil')
      await settle(cache)
      const clean = await request(url, CLEAN)
      expect(clean.headers['cache-status']).toBe('cachewire; hit; ttl=60')
      expect(clean.text).toBe(attack.text)
    })

    it('inside a mounted router and a mounted sub-app (mount-relative req.url), and on a route policy', async () => {
      const app = create()
      const cache = responseCache({ clock })
      const shop = router()
      shop.use(cache.middleware())
      shop.get('/items', seen)
      app.use('/shop', shop)
      const sub = create()
      sub.get('/items', cache.route({ ttl: '1m' }), seen)
      app.use('/sub', sub)
      const { url } = await listen(app)
      const routed = JSON.parse((await request(url, ATTACK)).text) as Record<string, unknown>
      expect(routed).toEqual({
        url: '/items?id=7',
        originalUrl: CLEAN,
        path: '/items',
        query: { id: '7' },
        baseUrl: '/shop',
      })
      const mounted = JSON.parse(
        (await request(url, '/sub/items?utm_medium=x&id=7')).text
      ) as Record<string, unknown>
      expect(mounted).toEqual({
        url: '/items?id=7',
        originalUrl: '/sub/items?id=7',
        path: '/items',
        query: { id: '7' },
        baseUrl: '/sub',
      })
      await settle(cache)
      // The router put its mount path back on the rewritten URL: later middleware sees no parameter either.
      expect((await request(url, '/shop/items?id=7')).headers['cache-status']).toBe(
        'cachewire; hit; ttl=60'
      )
    })

    it("the app's own query parser is used again (extended syntax), and a query property the app made writable is refreshed", async () => {
      const app = create()
      app.set('query parser', 'extended')
      // Some Express 5 apps turn req.query into a plain property to mutate it.
      app.use((req, _res, next) => {
        Object.defineProperty(req, 'query', {
          value: { ...(req.query as object) },
          writable: true,
          configurable: true,
          enumerable: true,
        })
        next()
      })
      const cache = responseCache({ clock })
      app.use(cache.middleware())
      app.get('/f', seen)
      const { url } = await listen(app)
      const view = JSON.parse((await request(url, '/f?a[b]=1&utm_term=evil')).text) as Record<
        string,
        unknown
      >
      expect(view.query).toEqual({ a: { b: '1' } })
      expect(JSON.stringify(view)).not.toContain('evil')
    })

    it('a revalidation and a background refresh run without them too', async () => {
      let now = 1_900_000_000_000
      const cache = responseCache({ clock: () => now })
      const app = create()
      app.use(cache.middleware())
      const urls: string[] = []
      app.get('/r', (req, res) => {
        urls.push(`${req.originalUrl} ${JSON.stringify(req.query)}`)
        res
          .set({
            'cache-control': 'max-age=10, stale-while-revalidate=30',
            etag: `"r${urls.length}"`,
          })
          .send('ok')
      })
      const { url } = await listen(app)
      await request(url, '/r?x=1&utm_source=a')
      await settle(cache)
      now += 20_000
      await request(url, '/r?x=1&utm_source=b')
      await settle(cache)
      now += 60_000
      await request(url, '/r?utm_source=c&x=1')
      await settle(cache)
      expect(urls).toEqual(['/r?x=1 {"x":"1"}', '/r?x=1 {"x":"1"}', '/r?x=1 {"x":"1"}'])
    })

    it('a request that goes around the cache is left as it came', async () => {
      const app = create()
      const cache = responseCache({ clock })
      app.use(cache.middleware())
      app.get('/b', seen)
      const { url } = await listen(app)
      const bypass = JSON.parse(
        (await request(url, '/b?utm_source=x', { headers: { cookie: 'a=1' } })).text
      ) as Record<string, unknown>
      expect(bypass.originalUrl).toBe('/b?utm_source=x')
    })

    it('through a front door, a hit for a URL with them is answered before Express runs, and a miss reaches even earlier middleware without them', async () => {
      const app = create()
      const cache = responseCache({ clock })
      let runs = 0
      const before: string[] = []
      // Middleware placed before the cache: behind a front door it never sees the parameters either.
      app.use((req, _res, next) => {
        before.push(req.originalUrl)
        next()
      })
      app.use(cache.middleware())
      app.get('/d', (req, res) => {
        runs++
        seen(req, res)
      })
      const server = http.createServer(cache.frontDoor(app))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      onTestFinished(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
          })
      )
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      await request(url, '/d?utm_source=evil&id=1')
      await settle(cache)
      const hit = await request(url, '/d?utm_campaign=x&id=1')
      expect(hit.headers['cache-status']).toBe('cachewire; hit; ttl=60')
      expect(runs).toBe(1)
      expect(before).toEqual(['/d?id=1'])
    })
  }
)
