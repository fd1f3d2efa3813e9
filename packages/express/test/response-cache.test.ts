import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Request } from 'express'
import { afterAll, describe, expect, it } from 'vitest'
import { cachedRoute, InvalidOptionError, responseCache, type ResponseCache } from '../src/index.js'
import { EXPRESS_VERSIONS, listen, request, settle } from './helpers.js'

const TOKEN = 'a-purge-token-of-some-length'
/** A clock that stands still, so ttl and Age are exact. */
const clock = (): number => 1_900_000_000_000

describe.each(EXPRESS_VERSIONS)('responseCache: one engine per app, on $express', ({ create }) => {
  async function get(
    url: string,
    path: string,
    cache: { whenIdle(): Promise<void> },
    headers?: Record<string, string>
  ) {
    const reply = await request(url, path, { headers })
    await settle(cache)
    return reply
  }

  it('a route behind the app middleware that keeps the key lends its policy to the one pass', async () => {
    const app = create()
    const cache = responseCache({ ttl: '1m', clock })
    let runs = 0
    app.use(cache.middleware())
    app.get(
      '/users/:id',
      cache.route({ ttl: '5m', tags: (req) => [`user:${req.params.id}`] }),
      (req, res) => {
        runs++
        res.send(`user ${req.params.id}`)
      }
    )
    const { url } = await listen(app)
    const miss = await get(url, '/users/1', cache)
    expect(miss.headers['cache-status']).toBe(
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=300'
    )
    const hit = await get(url, '/users/1', cache)
    expect(hit.headers['cache-status']).toBe('cachewire; hit; ttl=300')
    expect(runs).toBe(1)
    expect((await cache.invalidateTags(['user:1'])).removed).toBeGreaterThan(0)
    await get(url, '/users/1', cache)
    expect(runs).toBe(2)
    const { lookups } = cache.engine.observer.stats()
    expect([lookups.miss, lookups.hit]).toEqual([2, 1])
  })

  it('a route with a key of its own takes the request over: one entry per key, one Cache-Status member, counted once', async () => {
    const app = create()
    const cache = responseCache({ ttl: '1m', clock })
    let runs = 0
    app.use(cache.middleware())
    app.get('/t', cache.route({ keys: { key: (req) => req.get('x-tenant') } }), (req, res) => {
      runs++
      res.send(`tenant ${req.get('x-tenant')}`)
    })
    const { url } = await listen(app)
    expect((await get(url, '/t', cache, { 'x-tenant': 'a' })).text).toBe('tenant a')
    const b = await get(url, '/t', cache, { 'x-tenant': 'b' })
    expect(b.text).toBe('tenant b')
    expect(b.headers['cache-status']).toBe(
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60'
    )
    const hitA = await get(url, '/t', cache, { 'x-tenant': 'a' })
    expect(hitA.text).toBe('tenant a')
    expect(hitA.headers['cache-status']).toBe('cachewire; hit; ttl=60')
    expect(runs).toBe(2)
    const { lookups } = cache.engine.observer.stats()
    expect([lookups.miss, lookups.hit]).toEqual([2, 1])
  })

  it("a user's key() runs exactly once per request: 3 requests, 3 calls, on miss, hit and front-door paths", async () => {
    const counted = () => {
      let calls = 0
      return {
        key: (req: Request) => (calls++, String(req.get('x-tenant') ?? 'none')),
        calls: () => calls,
      }
    }
    // App-level key, through the middleware: a miss, then two hits.
    const appKey = counted()
    const app1 = create()
    const cache1 = responseCache({ ttl: '1m', keys: { key: appKey.key } })
    app1.use(cache1.middleware())
    app1.get('/a', (_req, res) => void res.send('a'))
    const one = await listen(app1)
    const statuses = [
      await get(one.url, '/a', cache1),
      await get(one.url, '/a', cache1),
      await get(one.url, '/a', cache1),
    ].map((r) => r.headers['cache-status'])
    expect(statuses[0]).toMatch(/uri-miss/)
    expect(statuses[2]).toMatch(/; hit/)
    expect(appKey.calls()).toBe(3)

    // A route's key behind the middleware, and the app's key too: each once per request.
    const app2Key = counted()
    const routeKey = counted()
    const app2 = create()
    const cache2 = responseCache({ ttl: '1m', keys: { key: app2Key.key } })
    app2.use(cache2.middleware())
    app2.get('/b', cache2.route({ keys: { key: routeKey.key } }), (_req, res) => void res.send('b'))
    const two = await listen(app2)
    for (let i = 0; i < 3; i++) await get(two.url, '/b', cache2)
    expect((await get(two.url, '/b', cache2)).headers['cache-status']).toMatch(/; hit/)
    expect([app2Key.calls(), routeKey.calls()]).toEqual([4, 4])

    // Behind a front door: the front door misses (the route's key is its own), the route keys once.
    const frontKey = counted()
    const app3 = create()
    const cache3 = responseCache({ ttl: '1m', clock })
    app3.use(cache3.middleware())
    app3.get('/c', cache3.route({ keys: { key: frontKey.key } }), (_req, res) => void res.send('c'))
    const server = http.createServer(cache3.frontDoor(app3))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const front = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    for (let i = 0; i < 3; i++) await get(front, '/c', cache3)
    expect(frontKey.calls()).toBe(3)
    server.closeAllConnections()
  })

  it('the front door answers entries stored under the app key policy, routes included, before Express runs', async () => {
    const app = create()
    const cache = responseCache({ ttl: '1m', clock })
    let reached = 0
    app.use((_req, _res, next) => {
      reached++
      next()
    })
    app.use(cache.middleware())
    app.get('/neutral', cache.route({ ttl: '5m' }), (_req, res) => void res.send('neutral'))
    app.get(
      '/own-key',
      cache.route({ keys: { key: () => 'k' } }),
      (_req, res) => void res.send('own')
    )
    const server = http.createServer(cache.frontDoor(app))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      await get(url, '/neutral', cache)
      await get(url, '/own-key', cache)
      expect(reached).toBe(2)
      const neutral = await get(url, '/neutral', cache)
      expect(neutral.headers['cache-status']).toBe('cachewire; hit; ttl=300')
      expect(reached).toBe(2)
      const own = await get(url, '/own-key', cache)
      expect(own.headers['cache-status']).toMatch(/; hit/)
      expect(reached).toBe(3)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('the front door replays a binary body byte for byte', async () => {
    const app = create()
    const cache = responseCache({ ttl: '1m', clock })
    const body = Buffer.from(Array.from({ length: 2048 }, (_, i) => 255 - (i % 256)))
    app.use(cache.middleware())
    app.get('/bytes', (_req, res) => void res.type('application/octet-stream').send(body))
    const server = http.createServer(cache.frontDoor(app))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      await get(url, '/bytes', cache)
      const hit = await get(url, '/bytes', cache)
      expect(hit.headers['cache-status']).toBe('cachewire; hit; ttl=60')
      expect(hit.raw.equals(body)).toBe(true)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('the front door is refused when the app key needs the Express request', () => {
    const app = create()
    for (const [cache, option] of [
      [responseCache({ keys: { key: (req) => req.get('x-a') } }), 'keys.key'],
      [
        responseCache({ safety: { scope: 'private', privateKey: (req) => req.get('x-user') } }),
        'safety.privateKey',
      ],
    ] as Array<[ResponseCache, string]>) {
      try {
        cache.frontDoor(app as never)
        expect.unreachable()
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionError)
        expect((error as InvalidOptionError).option).toBe(option)
      }
    }
    expect(() =>
      responseCache().frontDoor(app as never, { include: [(req: Request) => req.path === '/'] })
    ).toThrow(InvalidOptionError)
  })

  it('cachedRoute uses the cache registered on the app, or one default per app shared by its routes', async () => {
    const app = create()
    const cache = responseCache({ ttl: '1m', tags: ['site'], clock })
    app.use(cache.middleware({ include: ['/nothing'] }))
    app.get('/r', cachedRoute({ ttl: '5m' }), (_req, res) => void res.send('r'))
    const { url } = await listen(app)
    await get(url, '/r', cache)
    expect((await get(url, '/r', cache)).headers['cache-status']).toBe('cachewire; hit; ttl=300')
    expect(cache.engine.observer.stats().lookups.hit).toBe(1)
    expect((await cache.invalidateTags(['site'])).removed).toBeGreaterThan(0)

    const bare = create()
    let runs = 0
    bare.get(
      '/x',
      cachedRoute({ ttl: '1m', tags: ['x'] }),
      (_req, res) => void res.send(`x${++runs}`)
    )
    bare.post(
      '/purge',
      cachedRoute(),
      async (req, res) => void res.json(await req.cache?.invalidateTags(['x']))
    )
    const other = await listen(bare)
    const idle = { whenIdle: () => new Promise<void>((resolve) => setTimeout(resolve, 10)) }
    await get(other.url, '/x', idle)
    expect((await get(other.url, '/x', idle)).text).toBe('x1')
    await request(other.url, '/purge', { method: 'POST' })
    expect((await get(other.url, '/x', idle)).text).toBe('x2')
  })

  it('many routes on one cache add no listeners: no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = []
    const listener = (warning: Error): void => void warnings.push(warning)
    process.on('warning', listener)
    try {
      const app = create()
      const cache = responseCache({ ttl: '1m', clock })
      for (let i = 0; i < 15; i++) {
        app.get(
          `/r${i}`,
          cache.route({ ttl: '1m', tags: [`r${i}`] }),
          (_req, res) => void res.send(`r${i}`)
        )
        app.get(`/c${i}`, cachedRoute({ ttl: '1m' }), (_req, res) => void res.send(`c${i}`))
      }
      const { url } = await listen(app)
      for (let i = 0; i < 15; i++) {
        await get(url, `/r${i}`, cache)
        await get(url, `/c${i}`, cache)
      }
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual(
        []
      )
      await cache.close()
    } finally {
      process.off('warning', listener)
    }
  })

  it('a background refresh met by a route that keeps the key stores under the route policy', async () => {
    let now = 1_900_000_000_000
    const app = create()
    const cache = responseCache({ ttl: '1m', clock: () => now })
    let version = 1
    app.use(cache.middleware())
    app.get(
      '/feed',
      cache.route({ ttl: '5m', stale: { whileRevalidate: '10m' } }),
      (_req, res) => void res.send(`v${version}`)
    )
    const { url } = await listen(app)
    await get(url, '/feed', cache)
    version = 2
    now += 6 * 60_000
    const stale = await get(url, '/feed', cache)
    expect(stale.text).toBe('v1')
    expect(stale.headers['cache-status']).toMatch(/; hit; ttl=-60/)
    const fresh = await get(url, '/feed', cache)
    expect(fresh.text).toBe('v2')
    expect(fresh.headers['cache-status']).toBe('cachewire; hit; ttl=300')
  })

  it('a revalidation met by a route that keeps the key stores under the route policy', async () => {
    let now = 1_900_000_000_000
    const app = create()
    const cache = responseCache({ clock: () => now })
    let runs = 0
    app.use(cache.middleware())
    app.get('/doc', cache.route({ ttl: '5m' }), (req, res) => {
      runs++
      if (req.headers['if-none-match'] === '"d1"') return void res.status(304).end()
      res.set({ etag: '"d1"', 'cache-control': 'max-age=0' }).send('doc')
    })
    const { url } = await listen(app)
    await get(url, '/doc', cache)
    now += 1000
    const revalidated = await get(url, '/doc', cache)
    expect(revalidated.text).toBe('doc')
    expect(revalidated.headers['cache-status']).toMatch(/^cachewire; fwd=stale; fwd-status=304/)
    expect(runs).toBe(2)
  })

  it('a stale entry of the app key met by a route with a key of its own: the route answers, once, through its own pass', async () => {
    const now = 1_900_000_000_000
    const { Cache, MemoryStore } = await import('../src/index.js')
    const shared = new Cache({ store: new MemoryStore() })
    // An app without the route stored an entry under the app key (no-cache: revalidated on reuse).
    const before = create()
    const first = responseCache({ clock: () => now, storage: { cache: shared } })
    before.use(first.middleware())
    before.get(
      '/r',
      (_req, res) => void res.set({ etag: '"old"', 'cache-control': 'no-cache' }).send('old')
    )
    const one = await listen(before)
    const host = { host: 'shop.test' }
    await get(one.url, '/r', first, host)
    expect(first.engine.observer.stats().stores).toBe(1)
    // The same URL, now behind a route that keys per tenant, on the same storage.
    const after = create()
    const cache = responseCache({ ttl: '1m', clock: () => now, storage: { cache: shared } })
    let runs = 0
    after.use(cache.middleware())
    after.get(
      '/r',
      cache.route({ keys: { key: (req) => req.get('x-tenant') } }),
      (req, res) => void res.send(`tenant ${req.get('x-tenant')} ${++runs}`)
    )
    const two = await listen(after)
    const answered = await get(two.url, '/r', cache, { ...host, 'x-tenant': 'a' })
    expect(answered.text).toBe('tenant a 1')
    expect(answered.headers['cache-status']).toBe(
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60'
    )
    const hit = await get(two.url, '/r', cache, { ...host, 'x-tenant': 'a' })
    expect([hit.text, hit.headers['cache-status']]).toEqual([
      'tenant a 1',
      'cachewire; hit; ttl=60',
    ])
    expect(runs).toBe(1)
  })

  it('purgeRouter() over the same engine', async () => {
    const app = create()
    const cache = responseCache({ ttl: '1m', tags: ['all'] })
    app.use('/_cache', cache.purgeRouter({ token: TOKEN, log: () => {} }))
    app.use(cache.middleware())
    let runs = 0
    app.get('/p', (_req, res) => void res.send(`p${++runs}`))
    const { url } = await listen(app)
    await get(url, '/p', cache)
    const purged = await request(url, '/_cache/purge/tags', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['all'] }),
    })
    expect(purged.status).toBe(200)
    expect((await get(url, '/p', cache)).text).toBe('p2')
  })
})
