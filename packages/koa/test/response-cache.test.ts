import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Router from '@koa/router'
import { describe, expect, it, onTestFinished } from 'vitest'
import { InvalidOptionError, responseCache, type CacheContext } from '../src/index.js'
import { KOAS, request, serve } from './helpers.js'

/** A clock that stands still, so ttl and Age are exact. */
const clock = (): number => 1_900_000_000_000

describe.each(KOAS)('responseCache: one engine per app, on $name', ({ Koa }) => {
  it('a route behind the app middleware that keeps the key lends its policy; one with a key of its own takes over', async () => {
    const app = new Koa()
    const router = new Router()
    const cache = responseCache({ ttl: '1m', clock })
    let runs = 0
    app.use(cache.middleware())
    router.get(
      '/users/:id',
      cache.route({ ttl: '5m', tags: (ctx) => [`user:${String(ctx.params.id)}`] }),
      (ctx) => {
        runs++
        ctx.body = `user ${String(ctx.params.id)}`
      }
    )
    router.get('/t', cache.route({ keys: { key: (ctx) => ctx.get('x-tenant') } }), (ctx) => {
      runs++
      ctx.body = `tenant ${ctx.get('x-tenant')}`
    })
    app.use(router.routes())
    const served = await serve(app)
    const get = async (path: string, headers?: Record<string, string>) => {
      const response = await served.request(path, { headers })
      await cache.whenIdle()
      return response
    }
    expect((await get('/users/1')).headers['cache-status']).toBe(
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=300'
    )
    expect((await get('/users/1')).headers['cache-status']).toBe('cachewire; hit; ttl=300')
    expect((await cache.invalidateTags(['user:1'])).removed).toBeGreaterThan(0)
    expect((await get('/t', { 'x-tenant': 'a' })).text).toBe('tenant a')
    expect((await get('/t', { 'x-tenant': 'b' })).headers['cache-status']).toBe(
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60'
    )
    const hit = await get('/t', { 'x-tenant': 'a' })
    expect([hit.text, hit.headers['cache-status']]).toEqual(['tenant a', 'cachewire; hit; ttl=60'])
    expect(runs).toBe(3)
    const { lookups } = cache.engine.observer.stats()
    expect([lookups.miss, lookups.hit]).toEqual([3, 2])
  })

  it("a user's key() runs exactly once per request: 3 requests, 3 calls, on miss, hit and front-door paths", async () => {
    let appCalls = 0
    let routeCalls = 0
    const app = new Koa()
    const router = new Router()
    const cache = responseCache({ ttl: '1m', clock, keys: { key: () => (appCalls++, 'app') } })
    app.use(cache.middleware())
    router.get(
      '/a',
      cache.route({ keys: { key: (ctx: CacheContext) => (routeCalls++, String(ctx.query.v)) } }),
      (ctx) => void (ctx.body = 'a')
    )
    app.use(router.routes())
    const served = await serve(app)
    const statuses: unknown[] = []
    for (let i = 0; i < 3; i++) {
      statuses.push((await served.request('/a?v=1')).headers['cache-status'])
      await cache.whenIdle()
    }
    expect(statuses[0]).toMatch(/uri-miss/)
    expect(statuses[2]).toMatch(/; hit/)
    expect([appCalls, routeCalls]).toEqual([3, 3])

    let frontCalls = 0
    const fronted = new Koa()
    const routes = new Router()
    const frontCache = responseCache({ ttl: '1m', clock })
    fronted.use(frontCache.middleware())
    routes.get(
      '/c',
      frontCache.route({ keys: { key: () => (frontCalls++, 'c') } }),
      (ctx) => void (ctx.body = 'c')
    )
    routes.get('/n', frontCache.route({ ttl: '5m' }), (ctx) => void (ctx.body = 'n'))
    fronted.use(routes.routes())
    const server = http.createServer(frontCache.frontDoor(fronted))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onTestFinished(
      () =>
        new Promise<void>(
          (resolve) => (server.closeAllConnections(), server.close(() => resolve()))
        )
    )
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    for (let i = 0; i < 3; i++) {
      await request(`${url}/c`)
      await frontCache.whenIdle()
    }
    expect(frontCalls).toBe(3)
    await request(`${url}/n`)
    await frontCache.whenIdle()
    const before = frontCache.engine.observer.stats().lookups.hit
    expect((await request(`${url}/n`)).headers['cache-status']).toBe('cachewire; hit; ttl=300')
    expect(frontCache.engine.observer.stats().lookups.hit).toBe(before + 1)
  })

  it('under proxy, the front door answers a forwarded host from the entry the app stored for it; a forwarded list is not answered', async () => {
    const app = new Koa()
    app.proxy = true
    const cache = responseCache({ ttl: '1m', clock })
    let runs = 0
    app.use(cache.middleware())
    app.use((ctx) => void (ctx.body = `${ctx.host} ${++runs}`))
    const server = http.createServer(cache.frontDoor(app))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onTestFinished(
      () =>
        new Promise<void>(
          (resolve) => (server.closeAllConnections(), server.close(() => resolve()))
        )
    )
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/h`
    const forwarded = (host: string) => request(url, { headers: { 'x-forwarded-host': host } })
    expect((await forwarded('shop.test')).text).toBe('shop.test 1')
    await cache.whenIdle()
    const before = cache.engine.observer.stats().lookups.hit
    const hit = await forwarded('shop.test')
    expect([hit.text, hit.headers['cache-status']]).toEqual([
      'shop.test 1',
      'cachewire; hit; ttl=60',
    ])
    expect(cache.engine.observer.stats().lookups.hit).toBe(before + 1)
    // Which name of a list a proxy meant is not the cache's to guess: neither answered nor stored.
    const listed = await forwarded('shop.test, edge.test')
    expect([listed.text, listed.headers['cache-status']]).toEqual([
      'shop.test 2',
      'cachewire; fwd=bypass; fwd-status=200',
    ])
    expect((await forwarded('edge.test')).text).toBe('edge.test 3')
  })

  it('the front door is refused when the app key needs the Koa context', () => {
    const app = new Koa()
    try {
      responseCache({ keys: { key: (ctx) => ctx.get('x-a') } }).frontDoor(app)
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError)
      expect((error as InvalidOptionError).option).toBe('keys.key')
    }
  })

  it('a stale entry of the app key met by a route with a key of its own: the route answers, once, through its own pass', async () => {
    const { Cache, MemoryStore } = await import('../src/index.js')
    const shared = new Cache({ store: new MemoryStore() })
    const host = { host: 'shop.test' }
    const before = new Koa()
    const first = responseCache({ clock, storage: { cache: shared } })
    before.use(first.middleware())
    before.use((ctx) => {
      ctx.set({ etag: '"old"', 'cache-control': 'no-cache' })
      ctx.body = 'old'
    })
    await (await serve(before)).request('/r', { headers: host })
    await first.whenIdle()
    expect(first.engine.observer.stats().stores).toBe(1)
    const after = new Koa()
    const router = new Router()
    const cache = responseCache({ ttl: '1m', clock, storage: { cache: shared } })
    let runs = 0
    after.use(cache.middleware())
    router.get(
      '/r',
      cache.route({ keys: { key: (ctx) => ctx.get('x-tenant') } }),
      (ctx) => void (ctx.body = `tenant ${ctx.get('x-tenant')} ${++runs}`)
    )
    after.use(router.routes())
    const served = await serve(after)
    const answered = await served.request('/r', { headers: { ...host, 'x-tenant': 'a' } })
    await cache.whenIdle()
    expect([answered.text, answered.headers['cache-status']]).toEqual([
      'tenant a 1',
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60',
    ])
    const hit = await served.request('/r', { headers: { ...host, 'x-tenant': 'a' } })
    expect([hit.text, hit.headers['cache-status']]).toEqual([
      'tenant a 1',
      'cachewire; hit; ttl=60',
    ])
    expect(runs).toBe(1)
  })

  it('purgeRouter() over the same engine, under its prefix', async () => {
    const token = 'a-purge-token-of-some-length'
    const app = new Koa()
    const cache = responseCache({ ttl: '1m', tags: ['all'] })
    app.use(cache.purgeRouter({ token, log: () => {} }))
    app.use(cache.middleware())
    let runs = 0
    app.use((ctx) => void (ctx.body = `p${++runs}`))
    const { request: send } = await serve(app)
    await send('/p')
    await cache.whenIdle()
    const purged = await send('/_cache/purge/tags', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['all'] }),
    })
    expect(purged.status).toBe(200)
    expect((await send('/p')).text).toBe('p2')
  })
})
