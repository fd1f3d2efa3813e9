/**
 * CDN fields from cache options (`cdn`), on Express and Koa over real HTTP: Surrogate-Key with
 * the response's public tags, Surrogate-Control and CDN-Cache-Control, on misses that will be
 * stored and on hits; never on responses the cache refuses (private, Set-Cookie) or bypasses.
 */
import express from 'express'
import Koa from 'koa'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '@cachewire/http'
import { cachedRoute as expressRoute, cacheMiddleware as expressCache } from '@cachewire/express'
import { cacheMiddleware as koaCache } from '@cachewire/koa'
import type { CdnOptions } from '@cachewire/http'
import { listen, request } from '../helpers/servers.js'

const CDN: CdnOptions = {
  surrogateKeys: true,
  surrogateControl: 'max-age=3600',
  cdnCacheControl: { public: true, maxAge: '10m' },
}

interface App {
  url: string
  whenIdle(): Promise<void>
}

const frameworks: Array<{ name: string; build(cdn: CdnOptions | undefined): Promise<App> }> = [
  {
    name: 'Express',
    async build(cdn) {
      const middleware = expressCache({ ttl: '1m', cdn })
      const app = express()
      app.use(middleware)
      app.get('/products', (_req, res) => res.set('surrogate-key', 'products catalog').json([1, 2]))
      app.get('/private', (_req, res) =>
        res.set({ 'surrogate-key': 'me', 'cache-control': 'private' }).send('mine')
      )
      app.get('/cookie', (_req, res) => res.set('surrogate-key', 'c').cookie('s', '1').send('set'))
      app.post('/products', (_req, res) => res.send('created'))
      return { ...(await listen(app)), whenIdle: () => middleware.whenIdle() }
    },
  },
  {
    name: 'Koa',
    async build(cdn) {
      const middleware = koaCache({ ttl: '1m', cdn })
      const app = new Koa()
      app.use(middleware)
      app.use((ctx) => {
        if (ctx.path === '/products') {
          ctx.set('surrogate-key', 'products catalog')
          ctx.body = ctx.method === 'POST' ? 'created' : [1, 2]
        } else if (ctx.path === '/private') {
          ctx.set({ 'surrogate-key': 'me', 'cache-control': 'private' })
          ctx.body = 'mine'
        } else if (ctx.path === '/cookie') {
          ctx.set('surrogate-key', 'c')
          ctx.cookies.set('s', '1')
          ctx.body = 'set'
        }
      })
      return { ...(await listen(app)), whenIdle: () => middleware.whenIdle() }
    },
  },
]

for (const framework of frameworks) {
  describe(`${framework.name}: cacheMiddleware({ cdn })`, () => {
    it('sends Surrogate-Key, Surrogate-Control and CDN-Cache-Control on the miss and on hits', async () => {
      const app = await framework.build(CDN)
      const miss = await request(`${app.url}/products`)
      await app.whenIdle()
      const hit = await request(`${app.url}/products`)
      expect(hit.headers['cache-status']).toMatch(/hit/)
      for (const response of [miss, hit]) {
        expect(response.headers['surrogate-key']).toBe('products catalog')
        expect(response.headers['surrogate-control']).toBe('max-age=3600')
        expect(response.headers['cdn-cache-control']).toBe('public, max-age=600')
        // One line each, never the internal URL tags.
        expect(
          response.rawHeaders.filter((name) => name.toLowerCase() === 'surrogate-key')
        ).toHaveLength(1)
        expect(response.text).toBe('[1,2]')
      }
    })

    it('sends no CDN fields on responses the cache will not store, and still strips their Surrogate-Key', async () => {
      const app = await framework.build(CDN)
      for (const path of ['/private', '/cookie']) {
        const response = await request(`${app.url}${path}`)
        expect(response.status, path).toBe(200)
        expect(response.headers['surrogate-key'], path).toBeUndefined()
        expect(response.headers['cdn-cache-control'], path).toBeUndefined()
        expect(response.headers['surrogate-control'], path).toBeUndefined()
      }
    })

    it('sends no CDN fields on bypasses', async () => {
      const app = await framework.build(CDN)
      const post = await request(`${app.url}/products`, { method: 'POST' })
      const cookie = await request(`${app.url}/products`, { headers: { cookie: 'a=1' } })
      for (const response of [post, cookie]) {
        expect(response.headers['cdn-cache-control']).toBeUndefined()
        expect(response.headers['surrogate-key']).toBeUndefined()
      }
    })

    it('without cdn, keeps Surrogate-Key internal (stripped, used as tags)', async () => {
      const app = await framework.build(undefined)
      const response = await request(`${app.url}/products`)
      expect(response.headers['surrogate-key']).toBeUndefined()
      expect(response.headers['cdn-cache-control']).toBeUndefined()
    })
  })
}

describe('cachedRoute({ cdn }) on one Express route', () => {
  it('sends the route’s CDN fields with the route’s tags only on that route', async () => {
    const app = express()
    app.get(
      '/a',
      expressRoute({ ttl: '1m', cdn: { surrogateKeys: true, cdnCacheControl: 'max-age=60' } }),
      (_req, res) => res.set('surrogate-key', 'a').send('a')
    )
    app.get('/b', expressRoute({ ttl: '1m' }), (_req, res) =>
      res.set('surrogate-key', 'b').send('b')
    )
    const { url } = await listen(app)
    const a = await request(`${url}/a`)
    expect(a.headers['surrogate-key']).toBe('a')
    expect(a.headers['cdn-cache-control']).toBe('max-age=60')
    const b = await request(`${url}/b`)
    expect(b.headers['surrogate-key']).toBeUndefined()
    expect(b.headers['cdn-cache-control']).toBeUndefined()
  })
})

describe('a handler’s own CDN fields', () => {
  it('win over the cdn option, on the miss and on hits, without a second line', async () => {
    const middleware = expressCache({ ttl: '1m', cdn: CDN })
    const app = express()
    app.use(middleware)
    app.get('/own', (_req, res) =>
      res.set({ 'cdn-cache-control': 'max-age=5', 'surrogate-key': 'own' }).send('own')
    )
    const { url } = await listen(app)
    const miss = await request(`${url}/own`)
    await middleware.whenIdle()
    const hit = await request(`${url}/own`)
    expect(hit.headers['cache-status']).toMatch(/hit/)
    for (const response of [miss, hit]) {
      expect(response.headers['cdn-cache-control']).toBe('max-age=5')
      expect(
        response.rawHeaders.filter((name) => name.toLowerCase() === 'cdn-cache-control')
      ).toHaveLength(1)
      expect(response.headers['surrogate-control']).toBe('max-age=3600')
      expect(response.headers['surrogate-key']).toBe('own')
    }
  })
})

describe('cdn options, when built', () => {
  it.each([
    [{ surrogateKeys: 'yes' }, 'cdn.surrogateKeys'],
    [{ cdnCacheControl: { maxAge: -1 } }, 'cdn.cdnCacheControl.maxAge'],
    [{ cdnCacheControl: { maxAge: 600 } }, 'cdn.cdnCacheControl.maxAge'],
    [{ cdnControl: 'max-age=1' }, 'cdn.cdnControl'],
    [{ surrogateControl: 'max-age=1\r\nx: y' }, 'cdn.surrogateControl'],
    [{ cdnCacheControl: {} }, 'cdn.cdnCacheControl'],
    ['on', 'cdn'],
  ])('refuses %j with an InvalidOptionError naming %s', (cdn, option) => {
    try {
      expressCache({ cdn: cdn as never })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError)
      expect((error as InvalidOptionError).option).toBe(option)
    }
  })

  it('refuses a purge hook without purge()', () => {
    expect(() => expressCache({ cdn: { purgeHooks: [{} as never] } })).toThrow(
      /options\.cdn\.purgeHooks\[0\]/
    )
  })
})
