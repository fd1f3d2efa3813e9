import type { Express, NextFunction, Request, Response } from 'express'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  cacheMiddleware,
  CachewireError,
  InvalidOptionError,
  MemoryStore,
  type CacheMiddlewareOptions,
} from '../src/index.js'
import { EXPRESS_VERSIONS, listen, matrix, request, settle, type Reply } from './helpers.js'

const cases = await matrix('middleware')

describe.each(cases)(
  'cacheMiddleware on $express with $store',
  ({ create, router, createStore }) => {
    async function serve(
      mount: (app: Express, count: (req: Request) => void) => void,
      options: CacheMiddlewareOptions = {},
      before?: (app: Express) => void
    ) {
      const app = create()
      const calls = new Map<string, number>()
      const cache = cacheMiddleware({ storage: { store: createStore() }, ttl: '1m', ...options })
      before?.(app)
      app.use(cache)
      mount(app, (req) =>
        calls.set(
          req.originalUrl.split('?')[0] as string,
          (calls.get(req.originalUrl.split('?')[0] as string) ?? 0) + 1
        )
      )
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
      return { get, calls: (path: string) => calls.get(path) ?? 0, cache, server }
    }

    describe('conditional requests', () => {
      it('answers If-None-Match from the cache with a 304, without the handler', async () => {
        const app = await serve((a, count) =>
          a.get('/e', (req, res) => {
            count(req)
            res.send('etag body')
          })
        )
        const first = await app.get('/e')
        const stored = await app.get('/e')
        // Express's res.send sets its own (weak) ETag; the cache keeps the handler's.
        const etag = stored.headers.etag as string
        expect(etag).toMatch(/"$/)
        const conditional = await app.get('/e', { 'if-none-match': etag })
        expect(first.status).toBe(200)
        expect(conditional.status).toBe(304)
        expect(conditional.raw.length).toBe(0)
        expect(conditional.headers.etag).toBe(etag)
        expect(conditional.headers['cache-status']).toMatch(/; hit/)
        expect(app.calls('/e')).toBe(1)
      })

      it('answers If-Modified-Since from the cache with a 304', async () => {
        const lastModified = new Date(Date.now() - 3_600_000).toUTCString()
        const app = await serve((a, count) =>
          a.get('/m', (req, res) => {
            count(req)
            res.set('last-modified', lastModified).send('dated')
          })
        )
        await app.get('/m')
        const conditional = await app.get('/m', { 'if-modified-since': new Date().toUTCString() })
        expect(conditional.status).toBe(304)
        const older = await app.get('/m', {
          'if-modified-since': new Date(Date.now() - 7_200_000).toUTCString(),
        })
        expect(older.status).toBe(200)
        expect(older.text).toBe('dated')
        expect(app.calls('/m')).toBe(1)
      })

      it('on a miss the handler never sees the conditional fields; the client still gets its 304', async () => {
        const seen: Array<string | undefined> = []
        const app = await serve((a, count) =>
          a.get('/s', (req, res) => {
            count(req)
            seen.push(req.headers['if-none-match'])
            res.set('etag', '"v1"').send('full body')
          })
        )
        const first = await app.get('/s', { 'if-none-match': '"v1"' })
        expect(seen).toEqual([undefined])
        expect(first.status).toBe(304)
        expect(first.raw.length).toBe(0)
        // The full response was stored, not the 304.
        const plain = await app.get('/s')
        expect(plain.status).toBe(200)
        expect(plain.text).toBe('full body')
        expect(app.calls('/s')).toBe(1)
      })
    })

    it('a hit replays a binary body byte for byte, small (sent as a string) and large', async () => {
      const small = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256))
      const large = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7) % 256))
      const app = await serve((a, count) => {
        a.get('/small.bin', (req, res) => {
          count(req)
          res.type('application/octet-stream').send(small)
        })
        a.get('/large.bin', (req, res) => {
          count(req)
          res.type('application/octet-stream').send(large)
        })
      })
      for (const [path, body] of [
        ['/small.bin', small],
        ['/large.bin', large],
      ] as const) {
        await app.get(path)
        const hit = await app.get(path)
        expect(hit.headers['cache-status']).toMatch(/; hit/)
        expect(hit.headers['content-length']).toBe(String(body.length))
        expect(hit.raw.equals(body)).toBe(true)
        expect(app.calls(path)).toBe(1)
      }
    })

    it('concurrent misses for one URL wait for one handler run', async () => {
      const app = await serve((a, count) =>
        a.get('/slow', async (req, res) => {
          count(req)
          await new Promise((resolve) => setTimeout(resolve, 50))
          res.send('once')
        })
      )
      const replies = await Promise.all(
        Array.from({ length: 5 }, () => request(app.server.url, '/slow'))
      )
      expect(replies.map((reply) => reply.text)).toEqual(Array(5).fill('once'))
      expect(app.calls('/slow')).toBe(1)
    })

    it('stores one variant per Vary value', async () => {
      const app = await serve((a, count) =>
        a.get('/v', (req, res) => {
          count(req)
          res.vary('accept-language').send(`hello ${req.headers['accept-language'] ?? 'none'}`)
        })
      )
      expect((await app.get('/v', { 'accept-language': 'en' })).text).toBe('hello en')
      expect((await app.get('/v', { 'accept-language': 'fr' })).text).toBe('hello fr')
      const en = await app.get('/v', { 'accept-language': 'en' })
      const fr = await app.get('/v', { 'accept-language': 'fr' })
      expect(en.text).toBe('hello en')
      expect(fr.text).toBe('hello fr')
      expect(en.headers['cache-status']).toMatch(/; hit/)
      expect(app.calls('/v')).toBe(2)
    })

    it('never stores or replays a response with Set-Cookie', async () => {
      let n = 0
      const app = await serve((a, count) =>
        a.get('/cookie', (req, res) => {
          count(req)
          res.cookie('session', `s${++n}`).send('personal')
        })
      )
      const first = await app.get('/cookie')
      const second = await app.get('/cookie')
      expect(first.headers['set-cookie']?.[0]).toMatch(/^session=s1/)
      expect(second.headers['set-cookie']?.[0]).toMatch(/^session=s2/)
      expect(second.headers['cache-status']).not.toMatch(/; hit/)
      expect(app.calls('/cookie')).toBe(2)
    })

    it('does not share a response to a request with Authorization', async () => {
      const app = await serve((a, count) =>
        a.get('/me', (req, res) => {
          count(req)
          res.send(`user ${req.headers.authorization ?? 'anonymous'}`)
        })
      )
      expect((await app.get('/me', { authorization: 'Bearer alice' })).text).toBe(
        'user Bearer alice'
      )
      expect((await app.get('/me', { authorization: 'Bearer bob' })).text).toBe('user Bearer bob')
      expect((await app.get('/me')).text).toBe('user anonymous')
      expect((await app.get('/me')).text).toBe('user anonymous')
      expect((await app.get('/me', { authorization: 'Bearer carol' })).text).toBe(
        'user Bearer carol'
      )
      expect(app.calls('/me')).toBe(4)
    })

    it('does not use the cache for requests with a Cookie unless allowed', async () => {
      const app = await serve((a, count) =>
        a.get('/c', (req, res) => {
          count(req)
          res.send('page')
        })
      )
      await app.get('/c', { cookie: 'a=1' })
      await app.get('/c', { cookie: 'a=1' })
      expect(app.calls('/c')).toBe(2)
    })

    it('does not store 5xx answers without explicit freshness; stores them with it (RFC 9111 §3)', async () => {
      const app = await serve((a, count) => {
        a.get('/500', (req, res) => {
          count(req)
          res.status(500).send('fail')
        })
        a.get('/503', (req, res) => {
          count(req)
          res.status(503).set('cache-control', 'max-age=60').send('busy')
        })
      })
      for (const [path, calls] of [
        ['/500', 2],
        ['/503', 1],
      ] as const) {
        await app.get(path)
        await app.get(path)
        expect(app.calls(path)).toBe(calls)
      }
    })

    it('on a Router, keys use the full URL (the same router mounted twice)', async () => {
      const root = create()
      const calls: string[] = []
      const routes = router()
      const cache = cacheMiddleware({ storage: { store: createStore() }, ttl: '1m' })
      routes.use(cache)
      routes.get('/x', (req, res) => {
        calls.push(req.originalUrl)
        res.send(`${req.baseUrl} x`)
      })
      root.use('/one', routes)
      root.use('/two', routes)
      const server = await listen(root)
      for (let i = 0; i < 2; i++) {
        expect((await request(server.url, '/one/x')).text).toBe('/one x')
        expect((await request(server.url, '/two/x')).text).toBe('/two x')
        await settle(cache)
      }
      expect(calls).toEqual(['/one/x', '/two/x'])
    })

    it('in a mounted sub-app, keys use the full URL', async () => {
      const root = create()
      const calls: string[] = []
      const cache = cacheMiddleware({ storage: { store: createStore() }, ttl: '1m' })
      const sub = create()
      sub.use(cache)
      sub.get('/x', (req, res) => {
        calls.push(req.originalUrl)
        res.send(`${req.baseUrl} x`)
      })
      root.use('/one', sub)
      root.use('/two', sub)
      const server = await listen(root)
      for (let i = 0; i < 2; i++) {
        expect((await request(server.url, '/one/x?q=1')).text).toBe('/one x')
        expect((await request(server.url, '/two/x?q=1')).text).toBe('/two x')
        await settle(cache)
      }
      expect(calls).toEqual(['/one/x?q=1', '/two/x?q=1'])
    })

    it('trust proxy: X-Forwarded-Host is keyed when trusted, and bypasses when not', async () => {
      const trusted = await serve(
        (a, count) =>
          a.get('/h', (req, res) => {
            count(req)
            res.send(req.hostname)
          }),
        {},
        (a) => a.set('trust proxy', true)
      )
      expect((await trusted.get('/h', { 'x-forwarded-host': 'a.example' })).text).toBe('a.example')
      expect((await trusted.get('/h', { 'x-forwarded-host': 'b.example' })).text).toBe('b.example')
      expect(trusted.calls('/h')).toBe(2)
      const untrusted = await serve((a, count) =>
        a.get('/h', (req, res) => {
          count(req)
          res.send(req.hostname)
        })
      )
      // Untrusted, the app ignores the header, but the cache cannot know that: it bypasses (issue 8).
      await untrusted.get('/h', { 'x-forwarded-host': 'a.example' })
      const poisoned = await untrusted.get('/h', { 'x-forwarded-host': 'b.example' })
      expect(poisoned.text).toBe('127.0.0.1')
      expect(poisoned.headers['cache-status']).toContain('fwd=bypass')
      expect(untrusted.calls('/h')).toBe(2)
      await untrusted.get('/h')
      expect((await untrusted.get('/h')).headers['cache-status']).toContain('hit')
      expect(untrusted.calls('/h')).toBe(3)
    })

    it('keys differ per Host port', async () => {
      const app = await serve((a, count) =>
        a.get('/p', (req, res) => {
          count(req)
          res.send(`port ${req.headers.host}`)
        })
      )
      expect((await app.get('/p', { host: 'site.test:8080' })).text).toBe('port site.test:8080')
      expect((await app.get('/p', { host: 'site.test:8081' })).text).toBe('port site.test:8081')
      expect((await app.get('/p', { host: 'site.test:8080' })).text).toBe('port site.test:8080')
      expect(app.calls('/p')).toBe(2)
    })

    it('include and exclude choose which paths use the cache', async () => {
      const app = await serve(
        (a, count) => {
          for (const path of ['/api/a', '/api/private/b', '/apis', '/other'])
            a.get(path, (req, res) => {
              count(req)
              res.send(path)
            })
        },
        { include: ['/api', /^\/other$/], exclude: '/api/private' }
      )
      for (const path of ['/api/a', '/api/private/b', '/apis', '/other']) {
        await app.get(path)
        await app.get(path)
      }
      expect(app.calls('/api/a')).toBe(1)
      expect(app.calls('/other')).toBe(1)
      expect(app.calls('/api/private/b')).toBe(2)
      expect(app.calls('/apis')).toBe(2)
    })

    it('a successful POST invalidates the URL before its response ends', async () => {
      let version = 1
      const app = await serve((a, count) => {
        a.get('/items', (req, res) => {
          count(req)
          res.json({ version })
        })
        a.post('/items', (_req, res) => {
          version++
          res.status(201).send('created')
        })
      })
      await app.get('/items')
      expect((await app.get('/items')).headers['cache-status']).toMatch(/; hit/)
      const post = await request(app.server.url, '/items', { method: 'POST' })
      expect(post.status).toBe(201)
      const after = await app.get('/items')
      expect(after.text).toBe('{"version":2}')
      expect(app.calls('/items')).toBe(2)
    })

    it('req.cache.invalidateTags and req.cache.purgeUrl remove entries', async () => {
      const app = await serve(
        (a, count) => {
          a.get('/t', (req, res) => {
            count(req)
            res.send('tagged')
          })
          a.get('/u', (req, res) => {
            count(req)
            res.send('plain')
          })
          a.post('/purge-tag', async (req, res) =>
            res.json({ removed: (await req.cache?.invalidateTags(['everything']))?.removed })
          )
          a.post('/purge-url', async (req, res) =>
            res.json({ removed: (await req.cache?.purgeUrl('/u'))?.removed })
          )
        },
        { tags: ['everything'] }
      )
      await app.get('/t')
      await app.get('/u')
      await request(app.server.url, '/purge-url', { method: 'POST' })
      await app.get('/t')
      await app.get('/u')
      expect(app.calls('/t')).toBe(1)
      expect(app.calls('/u')).toBe(2)
      await request(app.server.url, '/purge-tag', { method: 'POST' })
      await app.get('/t')
      expect(app.calls('/t')).toBe(2)
    })

    it('Surrogate-Key values tag the entry and never reach the client', async () => {
      const app = await serve((a, count) =>
        a.get('/sk', (req, res) => {
          count(req)
          res.set('surrogate-key', 'group-a other').send('sk')
        })
      )
      const miss = await app.get('/sk')
      const hit = await app.get('/sk')
      expect(miss.headers['surrogate-key']).toBeUndefined()
      expect(hit.headers['surrogate-key']).toBeUndefined()
      await app.cache.invalidateTags(['group-a'])
      await app.get('/sk')
      expect(app.calls('/sk')).toBe(2)
    })

    it('the middleware’s own helpers purge by URL and tag', async () => {
      const app = await serve(
        (a, count) =>
          a.get('/x', (req, res) => {
            count(req)
            res.send('x')
          }),
        { tags: ['all'] }
      )
      await app.get('/x')
      await app.cache.purgeUrl(`http://127.0.0.1:${app.server.port}/x`)
      await app.get('/x')
      await app.cache.invalidateTags(['all'])
      await app.get('/x')
      expect(app.calls('/x')).toBe(3)
    })

    it('a hit serves what the shared store holds now, after another process stored a new response', async () => {
      // Two apps on one store, as two processes on one Redis. B's hits of the first response are
      // decoded once and reused (for Redis, while the bytes read stay the same); once A stores a
      // new response under the same key, B's next hit reads and serves the new one.
      const store = createStore()
      let version = 1
      const start = async () => {
        const app = create()
        const cache = cacheMiddleware({ storage: { store }, ttl: '1m' })
        app.use(cache)
        app.get('/shared', (_req, res) => {
          res.send(`version ${version}`)
        })
        return { cache, server: await listen(app) }
      }
      const a = await start()
      const b = await start()
      const fetchFrom = async (app: Awaited<ReturnType<typeof start>>): Promise<Reply> => {
        const reply = await request(app.server.url, '/shared', { headers: { host: 'shared.test' } })
        await settle(app.cache)
        return reply
      }
      expect((await fetchFrom(a)).text).toBe('version 1')
      for (let i = 0; i < 3; i++) {
        const hit = await fetchFrom(b)
        expect(hit.text).toBe('version 1')
        expect(hit.headers['cache-status']).toMatch(/; hit/)
      }
      version = 2
      await a.cache.purgeUrl('http://shared.test/shared')
      expect((await fetchFrom(a)).text).toBe('version 2')
      for (let i = 0; i < 3; i++) {
        const hit = await fetchFrom(b)
        expect(hit.text).toBe('version 2')
        expect(hit.headers['cache-status']).toMatch(/; hit/)
      }
    })

    it('a forged refresh header is an ordinary request', async () => {
      const app = await serve((a, count) =>
        a.get('/r', (req, res) => {
          count(req)
          res.send(`seen ${req.headers['x-cachewire-refresh'] ?? ''}`)
        })
      )
      await app.get('/r')
      const forged = await app.get('/r', { 'x-cachewire-refresh': 'guess.1' })
      expect(forged.headers['cache-status']).toMatch(/; hit/)
      expect(app.calls('/r')).toBe(1)
    })

    it('next(err) reaches the app’s error handler', async () => {
      const app = await serve((a, count) => {
        a.get('/err', (req, _res, next) => {
          count(req)
          next(Object.assign(new Error('nope'), { status: 418 }))
        })
        a.use(
          (error: Error & { status: number }, _req: Request, res: Response, _next: NextFunction) =>
            void res.status(error.status).send(error.message)
        )
      })
      const reply = await app.get('/err')
      expect(reply.status).toBe(418)
      expect(reply.text).toBe('nope')
    })
  }
)

describe('cacheMiddleware options', () => {
  const invalid: Array<[string, unknown]> = [
    ['ttl', { ttl: -5 }],
    ['ttl', { ttl: 60 }],
    ['storage.maxEntryBytes', { storage: { maxEntryBytes: 0 } }],
    ['freshness.statuses[0]', { freshness: { statuses: ['200'] } }],
    ['keys.hosts[0]', { keys: { hosts: ['not a host'] } }],
    ['keys.key', { keys: { key: 'tenant' } }],
    ['include', { include: 5 }],
    ['exclude[1]', { exclude: ['/ok', 'no-slash'] }],
    ['storage.cache', { storage: { cache: {} } }],
    ['tll', { tll: '1m' }],
    ['maxEntrySize', { maxEntrySize: 5 }],
    ['keys.kye', { keys: { kye: () => 'x' } }],
  ]
  for (const [option, options] of invalid) {
    it(`throws InvalidOptionError naming ${option} at build time`, () => {
      let thrown: unknown
      try {
        cacheMiddleware(options as CacheMiddlewareOptions)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(InvalidOptionError)
      expect(thrown).toBeInstanceOf(CachewireError)
      expect((thrown as InvalidOptionError).option).toBe(option)
      expect((thrown as Error).message).toContain(`options.${option}`)
    })
  }

  it('returns a named middleware with helpers', () => {
    const middleware = cacheMiddleware({ storage: { store: new MemoryStore() } })
    expect(middleware.name).toBe('cachewire')
    expect(typeof middleware.invalidateTags).toBe('function')
    expect(typeof middleware.purgeUrl).toBe('function')
    expect(typeof middleware.whenIdle).toBe('function')
    expect(typeof middleware.close).toBe('function')
    expect(middleware.cache).toBe(middleware.engine.cache)
  })

  it('invalid options do not compile; key, tags and privateKey take the Express request', () => {
    // @ts-expect-error: 0.x flat names are gone (storage.maxEntryBytes)
    expect(() => cacheMiddleware({ maxEntrySize: 5 })).toThrow(InvalidOptionError)
    // @ts-expect-error: a duration, not a boolean
    expect(() => cacheMiddleware({ ttl: true })).toThrow(InvalidOptionError)
    // @ts-expect-error: scope is 'shared' or 'private'
    expect(() => cacheMiddleware({ safety: { scope: 'public' } })).toThrow(InvalidOptionError)
    // @ts-expect-error: stale windows are durations
    expect(() => cacheMiddleware({ stale: { ifError: {} } })).toThrow(InvalidOptionError)
    expectTypeOf<NonNullable<NonNullable<CacheMiddlewareOptions['keys']>['key']>>()
      .parameter(0)
      .toEqualTypeOf<Request>()
    expectTypeOf<Extract<NonNullable<CacheMiddlewareOptions['tags']>, (req: never) => unknown>>()
      .parameter(0)
      .toEqualTypeOf<Request>()
    expectTypeOf<NonNullable<NonNullable<CacheMiddlewareOptions['safety']>['privateKey']>>()
      .parameter(0)
      .toEqualTypeOf<Request>()
  })

  it.each(EXPRESS_VERSIONS)('shows up by name in the $express router stack', ({ create }) => {
    const app = create()
    app.use(cacheMiddleware())
    app.get('/', (_req, res) => void res.end())
    const router = app as unknown as {
      _router?: { stack: Array<{ name: string }> }
      router?: { stack: Array<{ name: string }> }
    }
    const stack = (router._router ?? router.router)?.stack ?? []
    expect(stack.map((layer) => layer.name)).toContain('cachewire')
  })
})
