import Router from '@koa/router'
import { describe, expect, it } from 'vitest'
import { cachedRoute, InvalidArgumentError, InvalidOptionError } from '../src/index.js'
import { KOAS, manualClock, serve } from './helpers.js'

describe('cachedRoute(options, handler?)', () => {
  it('validates options and the handler when the route is built', () => {
    expect(() => cachedRoute({ ttl: -5 })).toThrow(InvalidOptionError)
    expect(() => cachedRoute({}, 'handler' as never)).toThrow(InvalidArgumentError)
    expect(cachedRoute().name).toBe('cachedRoute')
  })
})

describe.each(KOAS)('cachedRoute with @koa/router on $name', ({ Koa }) => {
  it('keys and tags on ctx.params and ctx.state, and handlers invalidate through ctx.cache', async () => {
    const app = new Koa()
    const router = new Router()
    let runs = 0
    const users = cachedRoute({
      ttl: '5m',
      tags: (ctx) => [`user:${String(ctx.params.id)}`],
      key: (ctx) => String(ctx.state.user ?? 'anonymous'),
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
      ctx.body = { removed: await ctx.cache?.invalidateTags([`user:${ctx.params.id}`]) }
    })
    app.use(router.routes())
    const { request } = await serve(app)
    const get = async (path: string, user?: string) => {
      const response = await request(path, user === undefined ? {} : { headers: { 'x-user': user } })
      await users.whenIdle()
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
    'answers from a stale entry within staleIfError when the handler throws, %s',
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
      const options = { staleIfError: '1m' as const, clock: clock.now }
      const route = form === 'as route middleware' ? cachedRoute(options) : cachedRoute(options, handler)
      if (form === 'as route middleware') router.get('/report', route, handler)
      else router.get('/report', route)
      app.use(router.routes())
      const { request } = await serve(app)
      await request('/report')
      await route.whenIdle()
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
