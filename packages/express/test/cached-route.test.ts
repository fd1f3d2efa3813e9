import type { NextFunction, Request, Response } from 'express'
import { describe, expect, it } from 'vitest'
import { Cache, cachedRoute, InvalidArgumentError, InvalidOptionError, type CachedRouteOptions } from '../src/index.js'
import { listen, manualClock, matrix, request, settle, type Reply } from './helpers.js'

const cases = await matrix('cached-route')

const errorHandler = (error: Error, _req: Request, res: Response, _next: NextFunction): void => {
  res.status(500).send(`error handler: ${error.message}`)
}

describe.each(cases)('cachedRoute on $express with $store', ({ create, createStore }) => {
  async function start(mount: (app: ReturnType<typeof create>) => { whenIdle(): Promise<void> }) {
    const app = create()
    const cache = mount(app)
    app.use(errorHandler)
    const server = await listen(app)
    const get = async (path: string, headers?: Record<string, string>, method = 'GET'): Promise<Reply> => {
      const reply = await request(server.url, path, { headers, method })
      await settle(cache)
      return reply
    }
    return { get, server }
  }

  it('tags from req.params, invalidated by req.cache.invalidateTags', async () => {
    const names = new Map([['1', 'Ada'], ['2', 'Grace']])
    let calls = 0
    const users = cachedRoute({ store: createStore(), ttl: '5m', tags: (req) => [`user:${req.params.id}`] })
    const { get } = await start((app) => {
      app.get('/users/:id', users, (req, res) => {
        calls++
        res.json({ id: req.params.id, name: names.get(req.params.id as string) })
      })
      app.post('/users/:id/rename/:name', users, async (req, res) => {
        names.set(req.params.id as string, req.params.name as string)
        await req.cache?.invalidateTags([`user:${req.params.id}`])
        res.sendStatus(204)
      })
      return users
    })
    await get('/users/1')
    await get('/users/2')
    expect((await get('/users/1')).headers['cache-status']).toMatch(/; hit/)
    expect(calls).toBe(2)
    expect((await get('/users/1/rename/Lovelace', undefined, 'POST')).status).toBe(204)
    expect((await get('/users/1')).text).toBe('{"id":"1","name":"Lovelace"}')
    expect((await get('/users/2')).headers['cache-status']).toMatch(/; hit/)
    expect(calls).toBe(3)
  })

  it('a key function of the Express request separates entries; false skips the cache', async () => {
    let calls = 0
    const route = cachedRoute({
      store: createStore(),
      ttl: '1m',
      key: (req) => (req.get('x-tenant') === 'none' ? false : req.get('x-tenant')),
    })
    const { get } = await start((app) => {
      app.get('/t', route, (req, res) => { calls++; res.send(`tenant ${req.get('x-tenant')}`) })
      return route
    })
    expect((await get('/t', { 'x-tenant': 'a' })).text).toBe('tenant a')
    expect((await get('/t', { 'x-tenant': 'b' })).text).toBe('tenant b')
    expect((await get('/t', { 'x-tenant': 'a' })).text).toBe('tenant a')
    expect(calls).toBe(2)
    await get('/t', { 'x-tenant': 'none' })
    await get('/t', { 'x-tenant': 'none' })
    expect(calls).toBe(4)
  })

  it('wraps a handler: cachedRoute(options, handler)', async () => {
    let calls = 0
    const route = cachedRoute({ store: createStore(), ttl: '1m' }, (_req, res) => { calls++; res.send('wrapped') })
    const { get } = await start((app) => {
      app.get('/w', route)
      return route
    })
    await get('/w')
    expect((await get('/w')).text).toBe('wrapped')
    expect(calls).toBe(1)
  })

  it('shares storage through `cache`', async () => {
    const shared = new Cache({ store: createStore() })
    const a = cachedRoute({ cache: shared, ttl: '1m', tags: ['shared'] })
    const b = cachedRoute({ cache: shared, ttl: '1m', tags: ['shared'] })
    let calls = 0
    const { get } = await start((app) => {
      app.get('/a', a, (_req, res) => { calls++; res.send('a') })
      app.get('/b', b, (_req, res) => { calls++; res.send('b') })
      return { whenIdle: async () => { await a.whenIdle(); await b.whenIdle() } }
    })
    await get('/a')
    await get('/b')
    await a.invalidateTags(['shared'])
    await get('/a')
    await get('/b')
    expect(calls).toBe(4)
  })

  describe('stale-while-revalidate', () => {
    it('serves the stale entry at once, refreshes once in the background, then serves the new body', async () => {
      const clock = manualClock()
      let version = 1
      let calls = 0
      const seenRefreshHeader: Array<string | undefined> = []
      const route = cachedRoute({ store: createStore(), ttl: '1m', staleWhileRevalidate: '5m', clock: clock.now })
      const { get } = await start((app) => {
        app.get('/feed', route, (req, res) => {
          calls++
          seenRefreshHeader.push(req.headers['x-cachewire-refresh'] as string | undefined)
          res.json({ version })
        })
        return route
      })
      expect((await get('/feed')).text).toBe('{"version":1}')
      version = 2
      clock.advance(2 * 60_000)
      const stale = await get('/feed')
      expect(stale.text).toBe('{"version":1}')
      expect(stale.headers['cache-status']).toMatch(/; hit/)
      // The refresh ran exactly once, without a client, and the marker never reached the handler.
      expect(calls).toBe(2)
      expect(seenRefreshHeader).toEqual([undefined, undefined])
      const fresh = await get('/feed')
      expect(fresh.text).toBe('{"version":2}')
      expect(fresh.headers['cache-status']).toMatch(/; hit/)
      expect(calls).toBe(2)
    })

    it('works for app-level cacheMiddleware too (the synthetic request goes through the whole app)', async () => {
      const { cacheMiddleware } = await import('../src/index.js')
      const clock = manualClock()
      let version = 1
      let calls = 0
      const cache = cacheMiddleware({ store: createStore(), ttl: '1m', staleWhileRevalidate: '5m', clock: clock.now })
      const sub = create()
      sub.use(cache)
      sub.get('/x', (_req, res) => { calls++; res.send(`v${version}`) })
      const { get } = await start((app) => {
        app.use('/mounted', sub)
        return cache
      })
      await get('/mounted/x')
      version = 2
      clock.advance(2 * 60_000)
      expect((await get('/mounted/x')).text).toBe('v1')
      expect((await get('/mounted/x')).text).toBe('v2')
      expect(calls).toBe(2)
    })
  })

  describe('stale-if-error', () => {
    const options = (clock: ReturnType<typeof manualClock>): CachedRouteOptions => ({
      store: createStore(),
      ttl: '1m',
      staleIfError: '10m',
      clock: clock.now,
    })

    it('route middleware: a thrown error (500 from the error handler) is answered with the stale entry', async () => {
      const clock = manualClock()
      let failing = false
      const route = cachedRoute(options(clock))
      const { get } = await start((app) => {
        app.get('/sie', route, (_req, res) => {
          if (failing) throw new Error('database down')
          res.send('good')
        })
        return route
      })
      await get('/sie')
      failing = true
      clock.advance(2 * 60_000)
      const stale = await get('/sie')
      expect(stale.status).toBe(200)
      expect(stale.text).toBe('good')
      expect(stale.headers['cache-status']).toMatch(/fwd=stale/)
      clock.advance(20 * 60_000)
      const expired = await get('/sie')
      expect(expired.status).toBe(500)
      expect(expired.text).toBe('error handler: database down')
    })

    it('a 503 answer is replaced by the stale entry', async () => {
      const clock = manualClock()
      let failing = false
      const route = cachedRoute(options(clock))
      const { get } = await start((app) => {
        app.get('/busy', route, (_req, res) => void (failing ? res.status(503).send('busy') : res.send('ok')))
        return route
      })
      await get('/busy')
      failing = true
      clock.advance(2 * 60_000)
      const stale = await get('/busy')
      expect(stale.status).toBe(200)
      expect(stale.text).toBe('ok')
    })

    it('wrapped handler: the error itself stands for the failure; outside the window it reaches next(err)', async () => {
      const clock = manualClock()
      let failing = false
      let handled = 0
      const route = cachedRoute(options(clock), async (_req, res) => {
        if (failing) throw new Error('wrapped failure')
        res.send('wrapped good')
      })
      const { get } = await start((app) => {
        app.get('/wrapped', route)
        app.use((error: Error, _req: Request, _res: Response, next: NextFunction) => { handled++; next(error) })
        return route
      })
      await get('/wrapped')
      failing = true
      clock.advance(2 * 60_000)
      const stale = await get('/wrapped')
      expect(stale.text).toBe('wrapped good')
      expect(handled).toBe(0)
      clock.advance(20 * 60_000)
      const expired = await get('/wrapped')
      expect(expired.status).toBe(500)
      expect(expired.text).toBe('error handler: wrapped failure')
      expect(handled).toBe(1)
    })
  })
})

describe('cachedRoute options', () => {
  it('throws InvalidOptionError naming the option at build time', () => {
    expect(() => cachedRoute({ ttl: 'soon' as never })).toThrow(InvalidOptionError)
    expect(() => cachedRoute({ staleWhileRevalidate: -1 })).toThrow(/options\.staleWhileRevalidate/)
    expect(() => cachedRoute({ tags: [''] })).toThrow(/options\.tags\[0\]/)
    expect(() => cachedRoute({}, 'handler' as never)).toThrow(InvalidArgumentError)
  })

  it('is named for the router stack', () => {
    expect(cachedRoute().name).toBe('cachedRoute')
  })
})
