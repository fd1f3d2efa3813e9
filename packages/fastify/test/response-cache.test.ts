import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { describe, expect, it } from 'vitest'
import { Cache, cachePlugin, InvalidOptionError, MemoryStore, responseCache } from '../src/index.js'
import { FASTIFY_VERSIONS, listen, request, settle } from './helpers.js'

const TOKEN = 'a-purge-token-of-some-length'
/** A clock that stands still, so ttl and Age are exact. */
const clock = (): number => 1_900_000_000_000

describe.each(FASTIFY_VERSIONS)(
  'responseCache: one engine per app, on $fastify',
  ({ fastify, create }) => {
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

    it("config: { cache } is the route's policy on the plugin's engine; config: { cache: false } leaves a route alone", async () => {
      const app = create()
      const cache = responseCache({ ttl: '1m', clock })
      await app.register(cache.plugin)
      let runs = 0
      app.get(
        '/users/:id',
        {
          config: {
            cache: {
              ttl: '5m',
              tags: (request) => [`user:${(request.params as { id: string }).id}`],
            },
          },
        },
        async (request) => {
          runs++
          return `user ${(request.params as { id: string }).id}`
        }
      )
      app.get('/live', { config: { cache: false } }, async () => `live ${++runs}`)
      const { url } = await listen(app)
      expect((await get(url, '/users/1', cache)).headers['cache-status']).toBe(
        'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=300'
      )
      expect((await get(url, '/users/1', cache)).headers['cache-status']).toBe(
        'cachewire; hit; ttl=300'
      )
      expect(runs).toBe(1)
      expect((await cache.invalidateTags(['user:1'])).removed).toBeGreaterThan(0)
      await get(url, '/users/1', cache)
      expect(runs).toBe(2)
      const live = await get(url, '/live', cache)
      expect(live.headers['cache-status']).toBeUndefined()
      expect((await get(url, '/live', cache)).text).toBe('live 4')
    })

    it('a bad route policy fails the app at startup, naming the route and the option', async () => {
      const app = create()
      await app.register(responseCache().plugin)
      expect(() => app.get('/bad', { config: { cache: { ttl: 60 } } }, async () => 'x')).toThrow(
        /route GET \/bad: .*ttl/
      )
      const storage = create()
      await storage.register(responseCache().plugin)
      expect(() =>
        storage.get('/s', { config: { cache: { storage: {} } as never } }, async () => 'x')
      ).toThrow(InvalidOptionError)
    })

    it('a route declared before the plugin loaded: its policy applies, and a bad one is a 500 naming it', async () => {
      const app = create()
      void app.register(responseCache({ clock }).plugin)
      app.get('/early', { config: { cache: { ttl: '2m' } } }, async () => 'early')
      app.get('/broken', { config: { cache: { ttl: 60 } } }, async () => 'never')
      const { url } = await listen(app)
      const idle = { whenIdle: () => app.responseCache.whenIdle() }
      await get(url, '/early', idle)
      expect((await get(url, '/early', idle)).headers['cache-status']).toBe(
        'cachewire; hit; ttl=120'
      )
      const broken = await get(url, '/broken', idle)
      expect(broken.status).toBe(500)
      expect(broken.text).toMatch(/ttl/)
    })

    it('a hit replays a binary body byte for byte, small (sent as a string) and large', async () => {
      const app = create()
      const cache = responseCache({ ttl: '1m', clock })
      await app.register(cache.plugin)
      const bodies: Record<string, Buffer> = {
        '/small.bin': Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256)),
        '/large.bin': Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7) % 256)),
      }
      for (const [path, body] of Object.entries(bodies))
        app.get(path, async (_request, reply) => reply.type('application/octet-stream').send(body))
      const { url } = await listen(app)
      for (const [path, body] of Object.entries(bodies)) {
        await get(url, path, cache)
        const hit = await get(url, path, cache)
        expect(hit.headers['cache-status']).toBe('cachewire; hit; ttl=60')
        expect(hit.raw.equals(body)).toBe(true)
      }
    })

    it('bad options are refused where they are given: responseCache(), the plugin, cache.route()', async () => {
      expect(() => responseCache({ ttl: 60 } as never)).toThrow(InvalidOptionError)
      expect(() => responseCache({ tll: '1m' } as never)).toThrow(/did you mean "ttl"/)
      const app = create()
      await expect(
        app.register(responseCache().plugin, { inclde: ['/a'] } as never)
      ).rejects.toThrow(InvalidOptionError)
      const thin = create()
      await expect(thin.register(cachePlugin, { ttl: 5 } as never)).rejects.toThrow(
        InvalidOptionError
      )
      expect(() => responseCache().route({ storage: {} } as never)).toThrow(/responseCache\(\)/)
      expect(() => responseCache().route({ safety: { scope: 'private' } })).toThrow(
        InvalidOptionError
      )
    })

    it('include / exclude path rules', async () => {
      const app = create()
      const cache = responseCache({ ttl: '1m', clock })
      await app.register(cache.plugin, { include: ['/api'], exclude: [/^\/api\/admin/] })
      for (const path of ['/api/items', '/api/admin/x', '/apis']) app.get(path, async () => path)
      const { url } = await listen(app)
      expect((await get(url, '/api/items', cache)).headers['cache-status']).toMatch(/stored/)
      expect((await get(url, '/api/admin/x', cache)).headers['cache-status']).toBeUndefined()
      expect((await get(url, '/apis', cache)).headers['cache-status']).toBeUndefined()
    })

    it('encapsulation: registered inside a plugin, only that plugin’s routes are cached', async () => {
      const app = create()
      const cache = responseCache({ ttl: '1m', clock })
      await app.register(
        async (api) => {
          await api.register(cache.plugin)
          api.get('/items', async () => 'items')
        },
        { prefix: '/api' }
      )
      app.get('/other', async () => 'other')
      const { url } = await listen(app)
      expect((await get(url, '/api/items', cache)).headers['cache-status']).toMatch(/stored/)
      expect((await get(url, '/other', cache)).headers['cache-status']).toBeUndefined()
    })

    it('one engine per app: registering the same cache again is a no-op, a second cache is refused', async () => {
      const app = create()
      const cache = responseCache({ ttl: '1m', clock })
      await app.register(cache.plugin)
      await app.register(cache.plugin)
      await app.register(async (child) => {
        await child.register(cache.plugin)
        child.get('/child', async () => 'child')
      })
      const { url } = await listen(app)
      const miss = await get(url, '/child', cache)
      // One hook ran: one Cache-Status member.
      expect(miss.headers['cache-status']).toBe(
        'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60'
      )
      const other = create()
      await other.register(responseCache().plugin)
      await expect(other.register(responseCache().plugin)).rejects.toThrow(
        /one responseCache per Fastify app/
      )
    })

    it('request.cache and app.responseCache: invalidate from a handler and from outside a request', async () => {
      const app = create()
      await app.register(cachePlugin, { ttl: '1m', tags: ['all'], clock })
      let runs = 0
      app.get('/a', async () => `a${++runs}`)
      app.post('/purge', async (request) => ({
        removed: (await request.cache?.invalidateTags(['all']))?.removed,
      }))
      app.post('/purge-url', async (request) => ({
        removed: (await request.cache?.purgeUrl('/a'))?.removed,
      }))
      const { url } = await listen(app)
      const idle = app.responseCache
      await get(url, '/a', idle)
      expect(JSON.parse((await request(url, '/purge', { method: 'POST' })).text)).toEqual({
        removed: 1,
      })
      await get(url, '/a', idle)
      expect(JSON.parse((await request(url, '/purge-url', { method: 'POST' })).text)).toEqual({
        removed: 1,
      })
      await get(url, '/a', idle)
      expect(await app.responseCache.invalidateTags(['all'])).toEqual({
        status: 'applied',
        removed: 1,
      })
      expect((await get(url, '/a', idle)).text).toBe('a4')
      expect(app.responseCache.engine.observer.stats().stores).toBe(4)
    })

    it('cache.route(policy) as a route hook: without the plugin, and behind it (one pass, the route policy)', async () => {
      const bare = create()
      const cache = responseCache({ ttl: '1m', clock })
      let runs = 0
      bare.get('/r', { onRequest: cache.route({ ttl: '5m' }) }, async () => `r${++runs}`)
      const one = await listen(bare)
      await get(one.url, '/r', cache)
      const hit = await get(one.url, '/r', cache)
      expect([hit.text, hit.headers['cache-status']]).toEqual(['r1', 'cachewire; hit; ttl=300'])

      const app = create()
      const both = responseCache({ ttl: '1m', clock })
      await app.register(both.plugin)
      app.get(
        '/t',
        {
          onRequest: both.route({
            keys: { key: (request) => String(request.headers['x-tenant']) },
          }),
        },
        async (request) => `tenant ${String(request.headers['x-tenant'])}`
      )
      const two = await listen(app)
      await get(two.url, '/t', both, { 'x-tenant': 'a' })
      const b = await get(two.url, '/t', both, { 'x-tenant': 'b' })
      expect([b.text, b.headers['cache-status']]).toEqual([
        'tenant b',
        'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60',
      ])
      const hitA = await get(two.url, '/t', both, { 'x-tenant': 'a' })
      expect([hitA.text, hitA.headers['cache-status']]).toEqual([
        'tenant a',
        'cachewire; hit; ttl=60',
      ])
      const { lookups } = both.engine.observer.stats()
      expect([lookups.miss, lookups.hit]).toEqual([2, 1])
    })

    it('a private scope keyed by what an authentication hook found: the route hook runs as preHandler after it', async () => {
      const app = create()
      const cache = responseCache({ ttl: '1m', clock, safety: { allowCookies: true } })
      await app.register(cache.plugin)
      app.decorateRequest('user', '')
      const authenticate = async (request: FastifyRequest): Promise<void> => {
        ;(request as FastifyRequest & { user: string }).user = String(
          request.headers.cookie
        ).replace('sid=', '')
      }
      let runs = 0
      app.get(
        '/me',
        {
          config: { cache: false },
          preHandler: [
            authenticate,
            cache.route({
              safety: {
                scope: 'private',
                privateKey: (request) => (request as FastifyRequest & { user: string }).user,
              },
            }),
          ],
        },
        async (request) =>
          `page of ${(request as FastifyRequest & { user: string }).user} ${++runs}`
      )
      const { url } = await listen(app)
      await get(url, '/me', cache, { cookie: 'sid=ada' })
      await get(url, '/me', cache, { cookie: 'sid=bob' })
      const ada = await get(url, '/me', cache, { cookie: 'sid=ada' })
      expect([ada.text, ada.headers['cache-status']]).toEqual([
        'page of ada 1',
        'cachewire; hit; ttl=60',
      ])
      const bob = await get(url, '/me', cache, { cookie: 'sid=bob' })
      expect(bob.text).toBe('page of bob 2')
    })

    it('trustProxy: an X-Forwarded-Host Fastify applies is keyed through the host; one it ignores bypasses', async () => {
      for (const trustProxy of [true, false]) {
        const app = create({ trustProxy })
        const cache = responseCache({
          ttl: '1m',
          clock,
          keys: { hosts: ['shop.test', 'cdn.test'] },
        })
        await app.register(cache.plugin)
        app.get(
          '/h',
          async (request) => `host ${(request as { host?: string }).host ?? request.hostname}`
        )
        const { url } = await listen(app)
        const forwarded = await get(url, '/h', cache, {
          host: 'shop.test',
          'x-forwarded-host': 'cdn.test',
        })
        if (trustProxy) {
          expect(forwarded.text).toBe('host cdn.test')
          expect(forwarded.headers['cache-status']).toMatch(/stored/)
          const direct = await get(url, '/h', cache, { host: 'cdn.test' })
          expect(direct.headers['cache-status']).toMatch(/; hit/)
        } else {
          expect(forwarded.text).toBe('host shop.test')
          expect(forwarded.headers['cache-status']).toMatch(/fwd=bypass/)
          expect(cache.engine.counters()['unkeyed-header']).toBe(1)
        }
      }
    })

    it('trustProxy naming another peer: the cache follows whatever this Fastify major makes of it', async () => {
      // Fastify 5 applies X-Forwarded-Host only from a trusted peer; Fastify 4 applies it under any trustProxy.
      const app = create({ trustProxy: '10.9.8.7' })
      const cache = responseCache({ ttl: '1m', clock, keys: { hosts: ['shop.test', 'cdn.test'] } })
      await app.register(cache.plugin)
      app.get(
        '/h',
        async (request) => `host ${(request as { host?: string }).host ?? request.hostname}`
      )
      const { url } = await listen(app)
      const forwarded = await get(url, '/h', cache, {
        host: 'shop.test',
        'x-forwarded-host': 'cdn.test',
      })
      if (forwarded.text === 'host cdn.test') {
        expect(forwarded.headers['cache-status']).toMatch(/stored/)
        expect((await get(url, '/h', cache, { host: 'cdn.test' })).text).toBe('host cdn.test')
      } else {
        expect(forwarded.text).toBe('host shop.test')
        expect(forwarded.headers['cache-status']).toMatch(/fwd=bypass/)
      }
      expect(forwarded.text).toBe(fastify === 'fastify 5' ? 'host shop.test' : 'host cdn.test')
    })

    it('a revalidation with a handler that answers 304 itself keeps the entry (route policy applied)', async () => {
      let now = 1_900_000_000_000
      const app = create()
      const cache = responseCache({ clock: () => now })
      await app.register(cache.plugin)
      let runs = 0
      app.get(
        '/doc',
        { config: { cache: { ttl: '5m' } } },
        async (request: FastifyRequest, reply: FastifyReply) => {
          runs++
          if (request.headers['if-none-match'] === '"d1"') return reply.code(304).send()
          return reply.headers({ etag: '"d1"', 'cache-control': 'max-age=0' }).send('doc')
        }
      )
      const { url } = await listen(app)
      await get(url, '/doc', cache)
      now += 1000
      const revalidated = await get(url, '/doc', cache)
      expect(revalidated.text).toBe('doc')
      expect(revalidated.headers['cache-status']).toMatch(/^cachewire; fwd=stale; fwd-status=304/)
      expect(runs).toBe(2)
    })

    it('stale-while-revalidate: the background refresh goes through the app and lands in the entry', async () => {
      let now = 1_900_000_000_000
      const app = create()
      const cache = responseCache({ clock: () => now })
      await app.register(cache.plugin)
      let version = 1
      app.get(
        '/feed',
        { config: { cache: { ttl: '5m', stale: { whileRevalidate: '10m' } } } },
        async () => `v${version}`
      )
      const { url } = await listen(app)
      await get(url, '/feed', cache)
      version = 2
      now += 6 * 60_000
      const stale = await get(url, '/feed', cache)
      expect(stale.text).toBe('v1')
      expect(stale.headers['cache-status']).toMatch(/; hit; ttl=-60/)
      const fresh = await get(url, '/feed', cache)
      expect([fresh.text, fresh.headers['cache-status']]).toEqual(['v2', 'cachewire; hit; ttl=300'])
    })

    it('app.close() closes the cache: a store it made is closed, a shared one stays open', async () => {
      const app = create()
      const cache = responseCache({ ttl: '1m' })
      await app.register(cache.plugin)
      await app.ready()
      await app.close()
      await expect(cache.close()).resolves.toBeUndefined()
      const shared = new Cache({ store: new MemoryStore() })
      const other = create()
      await other.register(responseCache({ storage: { cache: shared } }).plugin)
      await other.ready()
      await other.close()
      await shared.set('still', 'open', { ttl: '1m' })
      expect(await shared.get('still')).toBe('open')
    })

    it('purgeRouter() over the same engine, its routes never cached', async () => {
      const app = create()
      const cache = responseCache({ ttl: '1m', tags: ['all'] })
      await app.register(cache.plugin)
      await app.register(cache.purgeRouter({ token: TOKEN, log: () => {} }), { prefix: '/_cache' })
      let runs = 0
      app.get('/p', async () => `p${++runs}`)
      const { url } = await listen(app)
      await get(url, '/p', cache)
      const auth = { authorization: `Bearer ${TOKEN}` }
      const denied = await request(url, '/_cache/purge/tags', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tags: ['all'] }),
      })
      expect(denied.status).toBe(401)
      const purged = await request(url, '/_cache/purge/tags', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ tags: ['all'] }),
      })
      expect(purged.status).toBe(200)
      expect(JSON.parse(purged.text)).toMatchObject({ ok: true, kind: 'tags', count: 1 })
      expect((await get(url, '/p', cache)).text).toBe('p2')
      const stats = await request(url, '/_cache/stats', { headers: auth })
      expect(stats.status).toBe(200)
      expect(stats.headers['cache-status']).toBeUndefined()
      const inspector = await request(url, '/_cache/inspector')
      expect(inspector.headers['content-type']).toMatch(/text\/html/)
    })
  }
)

/** Typed uses of the public API (checked by `tsc`, run here so the file is a test). */
it('the types: options take the Fastify request; hooks fit route options of any route generic', () => {
  const typed = (app: FastifyInstance): void => {
    const cache = responseCache({
      keys: { key: (request) => request.hostname },
      tags: (request) => [request.url],
    })
    app.get<{ Params: { id: string } }>(
      '/t/:id',
      {
        onRequest: cache.route({ tags: (request) => [request.url] }),
        config: { cache: { ttl: '1m' } },
      },
      async (request) => request.params.id
    )
    // @ts-expect-error a ttl is a Duration (a string with a unit or milliseconds), not an object
    app.get('/bad', { config: { cache: { ttl: {} } } }, async () => '')
  }
  expect(typeof typed).toBe('function')
})
