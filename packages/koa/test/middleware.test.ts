import { gunzipSync } from 'node:zlib'
import compress from 'koa-compress'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  cacheMiddleware,
  cachedRoute,
  CachewireError,
  InvalidOptionError,
  MemoryStore,
  type CacheContext,
  type CacheMiddlewareOptions,
  type RouteOptions,
} from '../src/index.js'
import type Koa3 from 'koa'
import { KOAS, manualClock, serve } from './helpers.js'

describe('cacheMiddleware(options)', () => {
  describe('when an option is invalid', () => {
    const cases: Array<[string, CacheMiddlewareOptions]> = [
      ['ttl', { ttl: 'soon' as never }],
      ['ttl', { ttl: 30 }],
      ['storage.maxEntryBytes', { storage: { maxEntryBytes: -1 } }],
      ['freshness.statuses[0]', { freshness: { statuses: [99] } }],
      ['keys.hosts[0]', { keys: { hosts: ['not a host'] } }],
      ['include', { include: 5 as never }],
      ['exclude[1]', { exclude: ['/a', 'b'] }],
      ['keys.key', { keys: { key: 'tenant' as never } }],
      ['coalesce.timeout', { coalesce: { timeout: 0 } }],
      ['coalesce.timeoutMs', { coalesce: { timeoutMs: 5 } as never }],
      ['stale.whileRevalidate', { stale: { whileRevalidate: 'later' as never } }],
      ['staleWhileRevalidate', { staleWhileRevalidate: '1m' } as never],
      ['safety.scopes', { safety: { scopes: 'shared' } } as never],
    ]
    it.each(cases)(
      'throws an InvalidOptionError naming %s, when the middleware is built',
      (option, options) => {
        let thrown: unknown
        try {
          cacheMiddleware(options)
        } catch (error) {
          thrown = error
        }
        expect(thrown).toBeInstanceOf(InvalidOptionError)
        expect(thrown).toBeInstanceOf(CachewireError)
        expect((thrown as InvalidOptionError).option).toBe(option)
        expect((thrown as Error).message).toContain(`options.${option}`)
      }
    )

    it('rejects options that are not an object', () => {
      expect(() => cacheMiddleware(null as never)).toThrow(InvalidOptionError)
    })

    it('invalid options do not compile; key, tags and privateKey take the Koa context', () => {
      // @ts-expect-error: 0.x flat names are gone (keys.hosts)
      expect(() => cacheMiddleware({ hosts: ['a.example'] })).toThrow(InvalidOptionError)
      // @ts-expect-error: requestDirectives is 'honour' or 'ignore'
      expect(() => cacheMiddleware({ freshness: { requestDirectives: false } })).toThrow(
        InvalidOptionError
      )
      // @ts-expect-error: coalesce takes a timeout, not timeoutMs
      expect(() => cacheMiddleware({ coalesce: { timeoutMs: 5 } })).toThrow(InvalidOptionError)
      expectTypeOf<NonNullable<NonNullable<CacheMiddlewareOptions['keys']>['key']>>()
        .parameter(0)
        .toEqualTypeOf<CacheContext>()
      expectTypeOf<NonNullable<NonNullable<CacheMiddlewareOptions['safety']>['privateKey']>>()
        .parameter(0)
        .toEqualTypeOf<CacheContext>()
      expectTypeOf<Parameters<typeof cachedRoute>[0]>().toEqualTypeOf<RouteOptions | undefined>()
    })
  })

  it('returns a named async middleware with the cache helpers', () => {
    const middleware = cacheMiddleware()
    expect(middleware.name).toBe('cachewire')
    expect(typeof middleware.invalidateTags).toBe('function')
    expect(typeof middleware.purgeUrl).toBe('function')
    expect(typeof middleware.whenIdle).toBe('function')
    expect(typeof middleware.cache.get).toBe('function')
  })
})

describe.each(KOAS)('cacheMiddleware on $name', ({ Koa }) => {
  /** An app whose last middleware answers `v<n>` and counts runs per path. */
  async function app(
    options: CacheMiddlewareOptions,
    setup?: (app: Koa3) => void,
    headers: Record<string, string> = {}
  ) {
    const koa = new Koa()
    koa.silent = true
    const calls = new Map<string, number>()
    const cache = cacheMiddleware({ storage: { store: new MemoryStore() }, ...options })
    setup?.(koa)
    koa.use(cache)
    koa.use((ctx) => {
      const n = (calls.get(ctx.path) ?? 0) + 1
      calls.set(ctx.path, n)
      ctx.set(headers)
      ctx.body = `${ctx.path} v${n}`
    })
    const served = await serve(koa)
    const get = async (path: string, init?: Parameters<typeof served.request>[1]) => {
      const response = await served.request(path, init)
      await cache.whenIdle()
      return response
    }
    return { get, calls: (path: string) => calls.get(path) ?? 0, cache }
  }

  it('serves hits without running later middleware', async () => {
    const { get, calls } = await app({ ttl: '1m' })
    expect((await get('/a')).text).toBe('/a v1')
    const hit = await get('/a')
    expect(hit.text).toBe('/a v1')
    expect(hit.headers['cache-status']).toMatch(/^cachewire; hit; ttl=(59|60)$/)
    expect(calls('/a')).toBe(1)
  })

  it('applies include and exclude rules to the full path', async () => {
    const { get, calls } = await app({
      ttl: '1m',
      include: [/^\/api\//],
      exclude: (ctx) => ctx.query.fresh === '1',
    })
    await get('/api/x')
    await get('/api/x')
    await get('/api/x?fresh=1')
    await get('/other')
    await get('/other')
    expect(calls('/api/x')).toBe(2)
    expect(calls('/other')).toBe(2)
  })

  it('passes key and tags the Koa context', async () => {
    const seen: unknown[] = []
    const { get, calls, cache } = await app(
      {
        ttl: '1m',
        keys: { key: (ctx) => String(ctx.state.tenant) },
        tags: (ctx) => {
          seen.push(ctx.state.tenant)
          return [`tenant:${String(ctx.state.tenant)}`]
        },
      },
      (koa) =>
        koa.use(async (ctx, next) => {
          ctx.state.tenant = ctx.get('x-tenant')
          await next()
        })
    )
    expect((await get('/t', { headers: { 'x-tenant': 'a' } })).text).toBe('/t v1')
    expect((await get('/t', { headers: { 'x-tenant': 'b' } })).text).toBe('/t v2')
    expect((await get('/t', { headers: { 'x-tenant': 'a' } })).text).toBe('/t v1')
    expect(seen).toEqual(['a', 'b'])
    expect(await cache.invalidateTags(['tenant:a'])).toEqual({ status: 'applied', removed: 1 })
    expect((await get('/t', { headers: { 'x-tenant': 'a' } })).text).toBe('/t v3')
    expect(calls('/t')).toBe(3)
  })

  it('takes the host from X-Forwarded-Host only when app.proxy trusts it', async () => {
    const trusted = await app(
      { ttl: '1m', keys: { hosts: ['shop.test'] } },
      (koa) => void (koa.proxy = true)
    )
    const viaProxy = await trusted.get('/h', { headers: { 'x-forwarded-host': 'shop.test' } })
    expect(viaProxy.headers['cache-status']).toMatch(/stored/)
    const direct = await app({ ttl: '1m', keys: { hosts: ['shop.test'] } })
    const spoofed = await direct.get('/h', { headers: { 'x-forwarded-host': 'shop.test' } })
    expect(spoofed.headers['cache-status']).toBe('cachewire; fwd=bypass; fwd-status=200')
  })

  it('keys on the host ctx.host gives for a Host that lists names or carries userinfo', async () => {
    const { get, calls } = await app({ ttl: '1m', keys: { hosts: ['shop.test'] } })
    const listed = await get('/l', { headers: { host: 'shop.test, other.test' } })
    expect(listed.headers['cache-status']).toMatch(/stored/)
    const plain = await get('/l', { headers: { host: 'shop.test' } })
    expect(plain.headers['cache-status']).toMatch(/^cachewire; hit/)
    // Koa 2.16 and 3.3 both drop userinfo from ctx.host.
    const withUser = await get('/l', { headers: { host: 'user@shop.test' } })
    expect(withUser.headers['cache-status']).toMatch(/^cachewire; hit/)
    expect(withUser.text).toBe('/l v1')
    const other = await get('/l', { headers: { host: 'other.test' } })
    expect(other.headers['cache-status']).toBe('cachewire; fwd=bypass; fwd-status=200')
    expect(calls('/l')).toBe(2)
  })

  it("keys on an app's own request.host getter, never on the Host field under it", async () => {
    const { get, calls } = await app(
      { ttl: '1m', keys: { hosts: ['a.test', 'b.test'] } },
      (koa) => {
        Object.defineProperty(koa.request, 'host', {
          get(this: { get(field: string): string }) {
            return this.get('x-tenant-host')
          },
        })
      }
    )
    const a = await get('/t', { headers: { 'x-tenant-host': 'a.test' } })
    expect(a.headers['cache-status']).toMatch(/stored/)
    const b = await get('/t', { headers: { 'x-tenant-host': 'b.test' } })
    expect(b.headers['cache-status']).toMatch(/stored/)
    expect(b.text).toBe('/t v2')
    const againA = await get('/t', { headers: { 'x-tenant-host': 'a.test' } })
    expect(againA.headers['cache-status']).toMatch(/^cachewire; hit/)
    expect(againA.text).toBe('/t v1')
    expect(calls('/t')).toBe(2)
  })

  it('keys on a host an earlier middleware set on ctx.request', async () => {
    const { get, calls } = await app({ ttl: '1m', keys: { hosts: ['a.test', 'b.test'] } }, (koa) =>
      koa.use((ctx, next) => {
        Object.defineProperty(ctx.request, 'host', { value: ctx.get('x-tenant-host') })
        return next()
      })
    )
    expect((await get('/m', { headers: { 'x-tenant-host': 'a.test' } })).text).toBe('/m v1')
    expect((await get('/m', { headers: { 'x-tenant-host': 'b.test' } })).text).toBe('/m v2')
    const againB = await get('/m', { headers: { 'x-tenant-host': 'b.test' } })
    expect(againB.headers['cache-status']).toMatch(/^cachewire; hit/)
    expect(againB.text).toBe('/m v2')
    expect(calls('/m')).toBe(2)
  })

  describe('stale-while-revalidate', () => {
    it('refreshes in the background through the app, with the stored validators', async () => {
      const clock = manualClock()
      const seen: Array<{ inm: string | undefined; marker: string | undefined; outer: boolean }> =
        []
      const koa = new Koa()
      const cache = cacheMiddleware({ clock: clock.now })
      koa.use(async (ctx, next) => {
        ctx.state.outer = true
        await next()
      })
      koa.use(cache)
      let n = 0
      koa.use((ctx) => {
        n++
        seen.push({
          inm: ctx.get('if-none-match') || undefined,
          marker: ctx.get('x-cachewire-refresh') || undefined,
          outer: ctx.state.outer === true,
        })
        ctx.set('cache-control', 'max-age=10, stale-while-revalidate=60')
        ctx.set('etag', `"v${n}"`)
        ctx.body = `v${n}`
      })
      const { request } = await serve(koa)
      await request('/')
      await cache.whenIdle()
      clock.advance(20_000)
      const stale = await request('/')
      expect(stale.text).toBe('v1')
      expect(stale.headers.age).toBe('20')
      await cache.whenIdle()
      const fresh = await request('/')
      expect(fresh.text).toBe('v2')
      expect(fresh.headers.age).toBe('0')
      expect(seen).toEqual([
        { inm: undefined, marker: undefined, outer: true },
        { inm: '"v1"', marker: undefined, outer: true },
      ])
    })

    it('treats a refresh marker without its secret as an ordinary request', async () => {
      const { get, calls } = await app({ ttl: '1m' })
      await get('/m')
      const forged = await get('/m', { headers: { 'x-cachewire-refresh': 'guess.1' } })
      expect(forged.text).toBe('/m v1')
      expect(forged.headers['cache-status']).toMatch(/; hit/)
      expect(calls('/m')).toBe(1)
    })
  })

  describe('with koa-compress', () => {
    const long = 'x'.repeat(4096)
    async function compressed(order: 'before' | 'after') {
      const koa = new Koa()
      const cache = cacheMiddleware({ ttl: '1m' })
      let calls = 0
      if (order === 'before') koa.use(compress({ threshold: 0 }))
      koa.use(cache)
      if (order === 'after') koa.use(compress({ threshold: 0 }))
      koa.use((ctx) => {
        calls++
        ctx.type = 'text/plain'
        ctx.body = long
      })
      const { request } = await serve(koa)
      const get = async (encoding?: string) => {
        const response = await request(
          '/',
          encoding === undefined ? {} : { headers: { 'accept-encoding': encoding } }
        )
        await cache.whenIdle()
        return response
      }
      return { get, calls: () => calls }
    }
    const text = (response: { headers: Record<string, unknown>; body: Buffer }): string =>
      response.headers['content-encoding'] === 'gzip'
        ? gunzipSync(response.body).toString()
        : response.body.toString()

    it.each(['before', 'after'] as const)(
      'keeps bytes and Content-Encoding together with compression %s the cache',
      async (order) => {
        const { get, calls } = await compressed(order)
        const gzipMiss = await get('gzip')
        const gzipHit = await get('gzip')
        const identity = await get('identity')
        const identityAgain = await get('identity')
        for (const response of [gzipMiss, gzipHit]) {
          expect(response.headers['content-encoding']).toBe('gzip')
          expect(text(response)).toBe(long)
        }
        for (const response of [identity, identityAgain]) {
          expect(response.headers['content-encoding']).toBeUndefined()
          expect(response.body.toString()).toBe(long)
        }
        expect(gzipHit.headers['cache-status']).toMatch(/; hit/)
        expect(identityAgain.headers['cache-status']).toMatch(/; hit/)
        // Compression after the cache stores one variant per encoding; before it, the cache keeps
        // identity bytes and compression re-applies on hits.
        expect(calls()).toBeLessThanOrEqual(2)
      }
    )
  })

  describe('ctx.cache and ctx.state.cache', () => {
    it('are the same invalidation helpers, bound to the request host', async () => {
      const koa = new Koa()
      const cache = cacheMiddleware({ ttl: '1m' })
      koa.use(cache)
      let n = 0
      koa.use(async (ctx) => {
        expect(ctx.state.cache).toBe(ctx.cache)
        if (ctx.method === 'POST') {
          ctx.body = {
            purged: (await ctx.cache?.purgeUrl('/page'))?.removed,
            tagged: (await ctx.cache?.invalidateTags(['none']))?.removed,
          }
          return
        }
        ctx.body = `page v${++n}`
      })
      const { request } = await serve(koa)
      await request('/page')
      await cache.whenIdle()
      expect((await request('/page')).text).toBe('page v1')
      const purge = await request('/page', { method: 'POST' })
      expect(JSON.parse(purge.text)).toEqual({ purged: 1, tagged: 0 })
      expect((await request('/page')).text).toBe('page v2')
    })
  })
})
