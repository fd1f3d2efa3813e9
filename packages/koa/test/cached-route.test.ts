import Router from '@koa/router'
import { describe, expect, it } from 'vitest'
import {
  cachedRoute,
  InvalidArgumentError,
  InvalidOptionError,
  responseCache,
} from '../src/index.js'
import { KOAS, manualClock, serve } from './helpers.js'

describe('cachedRoute(options, handler?)', () => {
  it('validates options and the handler when the route is built', () => {
    expect(() => cachedRoute({ ttl: -5 })).toThrow(InvalidOptionError)
    expect(() => cachedRoute({}, 'handler' as never)).toThrow(InvalidArgumentError)
    expect(cachedRoute().name).toBe('cachedRoute')
    expect(responseCache().route().name).toBe('cachedRoute')
  })

  it('refuses storage and app-wide options, saying where they go', () => {
    expect(() => cachedRoute({ storage: {} } as never)).toThrow(
      'storage is per app, pass it to responseCache()'
    )
    expect(() => cachedRoute({ clock: Date.now } as never)).toThrow(
      'clock is per app, pass it to responseCache()'
    )
    expect(() => cachedRoute({ staleIfError: '1m' } as never)).toThrow(
      /written as stale\.ifError since 1\.0/
    )
  })
})

describe.each(KOAS)('cachedRoute with @koa/router on $name', ({ Koa }) => {
  it('keys and tags on ctx.params and ctx.state, and handlers invalidate through ctx.cache', async () => {
    const app = new Koa()
    const router = new Router()
    let runs = 0
    const cache = responseCache()
    const users = cache.route({
      ttl: '5m',
      tags: (ctx) => [`user:${String(ctx.params.id)}`],
      keys: { key: (ctx) => String(ctx.state.user ?? 'anonymous') },
    })
    app.use(async (ctx, next) => {
      ctx.state.user = ctx.get('x-user') || undefined
      await next()
    })
    router.get('/users/:id', users, (ctx) => {
      runs++
      ctx.body = { id: ctx.params.id, viewer: ctx.state.user, run: runs }
    })
    router.post('/users/:id', users, async (ctx) => {
      ctx.body = { removed: (await ctx.cache?.invalidateTags([`user:${ctx.params.id}`]))?.removed }
    })
    app.use(router.routes())
    const { request } = await serve(app)
    const get = async (path: string, user?: string) => {
      const response = await request(
        path,
        user === undefined ? {} : { headers: { 'x-user': user } }
      )
      await cache.whenIdle()
      return JSON.parse(response.text) as { run: number }
    }
    expect((await get('/users/1', 'ada')).run).toBe(1)
    expect((await get('/users/1', 'ada')).run).toBe(1)
    expect((await get('/users/1', 'bob')).run).toBe(2)
    expect((await get('/users/2', 'ada')).run).toBe(3)
    const post = await request('/users/1', { method: 'POST' })
    expect(JSON.parse(post.text)).toEqual({ removed: 2 })
    expect((await get('/users/1', 'ada')).run).toBe(4)
    expect((await get('/users/2', 'ada')).run).toBe(3)
  })

  it.each(['as route middleware', 'wrapped around the handler'] as const)(
    'answers from a stale entry within stale.ifError when the handler throws, %s',
    async (form) => {
      const clock = manualClock()
      const app = new Koa()
      app.silent = true
      const router = new Router()
      let runs = 0
      const handler = (ctx: { body: unknown; set(name: string, value: string): void }): void => {
        runs++
        if (runs > 1) throw new Error('database down')
        ctx.set('cache-control', 'max-age=10')
        ctx.body = 'report v1'
      }
      const cache = responseCache({ clock: clock.now })
      const options = { stale: { ifError: '1m' as const } }
      const route =
        form === 'as route middleware' ? cache.route(options) : cache.route(options, handler)
      if (form === 'as route middleware') router.get('/report', route, handler)
      else router.get('/report', route)
      app.use(router.routes())
      const { request } = await serve(app)
      await request('/report')
      await cache.whenIdle()
      clock.advance(30_000)
      const stale = await request('/report')
      expect(stale.status).toBe(200)
      expect(stale.text).toBe('report v1')
      expect(stale.headers['cache-status']).toBe('cachewire; fwd=stale; ttl=-20')
      clock.advance(60_000)
      const failed = await request('/report')
      expect(failed.status).toBe(500)
      expect(runs).toBe(3)
    }
  )
})

describe.each(KOAS)('cachedRoute on the app cache, on $name', ({ Koa }) => {
  it('uses the cache the app middleware registered, or one default shared by the routes of an app', async () => {
    const app = new Koa()
    const router = new Router()
    const cache = responseCache({ ttl: '1m', tags: ['site'] })
    app.use(cache.middleware({ include: ['/nothing'] }))
    router.get('/r', cachedRoute({ ttl: '5m' }), (ctx) => void (ctx.body = 'r'))
    app.use(router.routes())
    const { request } = await serve(app)
    await request('/r')
    await cache.whenIdle()
    expect((await request('/r')).headers['cache-status']).toMatch(/^cachewire; hit; ttl=(299|300)$/)
    expect(cache.engine.observer.stats().lookups.hit).toBe(1)

    const bare = new Koa()
    const routes = new Router()
    let runs = 0
    routes.get(
      '/x',
      cachedRoute({ ttl: '1m', tags: ['x'] }),
      (ctx) => void (ctx.body = `x${++runs}`)
    )
    routes.post(
      '/purge',
      cachedRoute(),
      async (ctx) =>
        void (ctx.body = { removed: (await ctx.cache?.invalidateTags(['x']))?.removed })
    )
    bare.use(routes.routes())
    const other = await serve(bare)
    const settle = () => new Promise((resolve) => setTimeout(resolve, 10))
    await other.request('/x')
    await settle()
    expect((await other.request('/x')).text).toBe('x1')
    await other.request('/purge', { method: 'POST' })
    expect((await other.request('/x')).text).toBe('x2')
  })
})
