import type { NextFunction, Request, Response } from 'express'
import { describe, expect, it } from 'vitest'
import {
  cachedRoute,
  cacheMiddleware,
  InvalidArgumentError,
  InvalidOptionError,
  responseCache,
  type RouteOptions,
} from '../src/index.js'
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
    const get = async (
      path: string,
      headers?: Record<string, string>,
      method = 'GET'
    ): Promise<Reply> => {
      const reply = await request(server.url, path, { headers, method })
      await settle(cache)
      return reply
    }
    return { get, server }
  }

  it('tags from req.params, invalidated by req.cache.invalidateTags', async () => {
    const names = new Map([
      ['1', 'Ada'],
      ['2', 'Grace'],
    ])
    let calls = 0
    const cache = responseCache({ storage: { store: createStore() } })
    const users = cache.route({ ttl: '5m', tags: (req) => [`user:${req.params.id}`] })
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
      return cache
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
    const cache = responseCache({ storage: { store: createStore() } })
    const route = cache.route({
      ttl: '1m',
      keys: { key: (req) => (req.get('x-tenant') === 'none' ? false : req.get('x-tenant')) },
    })
    const { get } = await start((app) => {
      app.get('/t', route, (req, res) => {
        calls++
        res.send(`tenant ${req.get('x-tenant')}`)
      })
      return cache
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
    const cache = responseCache({ storage: { store: createStore() } })
    const route = cache.route({ ttl: '1m' }, (_req, res) => {
      calls++
      res.send('wrapped')
    })
    const { get } = await start((app) => {
      app.get('/w', route)
      return cache
    })
    await get('/w')
    expect((await get('/w')).text).toBe('wrapped')
    expect(calls).toBe(1)
  })

  it('routes of one cache share its storage, so one invalidation reaches all of them', async () => {
    const cache = responseCache({ storage: { store: createStore() } })
    const a = cache.route({ ttl: '1m', tags: ['shared'] })
    const b = cache.route({ ttl: '1m', tags: ['shared'] })
    let calls = 0
    const { get } = await start((app) => {
      app.get('/a', a, (_req, res) => {
        calls++
        res.send('a')
      })
      app.get('/b', b, (_req, res) => {
        calls++
        res.send('b')
      })
      return cache
    })
    await get('/a')
    await get('/b')
    await cache.invalidateTags(['shared'])
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
      const cache = responseCache({ storage: { store: createStore() }, clock: clock.now })
      const route = cache.route({ ttl: '1m', stale: { whileRevalidate: '5m' } })
      const { get } = await start((app) => {
        app.get('/feed', route, (req, res) => {
          calls++
          seenRefreshHeader.push(req.headers['x-cachewire-refresh'] as string | undefined)
          res.json({ version })
        })
        return cache
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
      const clock = manualClock()
      let version = 1
      let calls = 0
      const cache = cacheMiddleware({
        storage: { store: createStore() },
        ttl: '1m',
        stale: { whileRevalidate: '5m' },
        clock: clock.now,
      })
      const sub = create()
      sub.use(cache)
      sub.get('/x', (_req, res) => {
        calls++
        res.send(`v${version}`)
      })
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
    const options: RouteOptions = { ttl: '1m', stale: { ifError: '10m' } }
    const cacheOn = (clock: ReturnType<typeof manualClock>) =>
      responseCache({ storage: { store: createStore() }, clock: clock.now })

    it('route middleware: a thrown error (500 from the error handler) is answered with the stale entry', async () => {
      const clock = manualClock()
      let failing = false
      const cache = cacheOn(clock)
      const route = cache.route(options)
      const { get } = await start((app) => {
        app.get('/sie', route, (_req, res) => {
          if (failing) throw new Error('database down')
          res.send('good')
        })
        return cache
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
      const cache = cacheOn(clock)
      const route = cache.route(options)
      const { get } = await start((app) => {
        app.get(
          '/busy',
          route,
          (_req, res) => void (failing ? res.status(503).send('busy') : res.send('ok'))
        )
        return cache
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
      const cache = cacheOn(clock)
      const route = cache.route(options, async (_req, res) => {
        if (failing) throw new Error('wrapped failure')
        res.send('wrapped good')
      })
      const { get } = await start((app) => {
        app.get('/wrapped', route)
        app.use((error: Error, _req: Request, _res: Response, next: NextFunction) => {
          handled++
          next(error)
        })
        return cache
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
    expect(() => cachedRoute({ stale: { whileRevalidate: -1 } })).toThrow(
      /options\.stale\.whileRevalidate/
    )
    expect(() => cachedRoute({ tags: [''] })).toThrow(/options\.tags\[0\]/)
    expect(() => cachedRoute({}, 'handler' as never)).toThrow(InvalidArgumentError)
    expect(() => responseCache().route({}, 'handler' as never)).toThrow(InvalidArgumentError)
  })

  it('refuses storage and app-wide options, saying where they go', () => {
    expect(() => cachedRoute({ storage: {} } as never)).toThrow(
      'storage is per app, pass it to responseCache()'
    )
    expect(() => cachedRoute({ store: {} } as never)).toThrow(
      'storage.store is per app, pass it to responseCache()'
    )
    expect(() => cachedRoute({ keys: { hosts: ['a.example'] } } as never)).toThrow(
      /keys\.hosts is per app/
    )
    // @ts-expect-error: storage is per app
    expect(() => cachedRoute({ storage: {} })).toThrow(InvalidOptionError)
  })

  it('refuses a private scope without a privateKey on the route or the app', () => {
    expect(() => responseCache().route({ safety: { scope: 'private' } })).toThrow(
      /options\.safety\.privateKey/
    )
    expect(() =>
      responseCache({ safety: { privateKey: (req) => req.get('x-user') } }).route({
        safety: { scope: 'private' },
      })
    ).not.toThrow()
  })

  it('is named for the router stack', () => {
    expect(cachedRoute().name).toBe('cachedRoute')
  })
})
