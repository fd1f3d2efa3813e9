import { Readable } from 'node:stream'
import type { Context, Middleware } from 'koa'
import { describe, expect, it } from 'vitest'
import { cacheMiddleware, type CacheMiddlewareOptions } from '../src/index.js'
import { KOAS, serve, type Served } from './helpers.js'

describe.each(KOAS)('capture on $name', ({ name, Koa }) => {
  /** An app with the cache in front of one handler; `calls` counts handler runs. */
  async function cached(handler: Middleware, options: CacheMiddlewareOptions = { ttl: '1m' }) {
    const app = new Koa()
    app.silent = true
    const middleware = cacheMiddleware(options)
    const state = { calls: 0 }
    app.use(middleware)
    app.use(async (ctx, next) => {
      state.calls++
      await handler(ctx, next)
    })
    const served = await serve(app)
    /** A request, then the cache's background writes. */
    const get = async (path = '/', init?: Parameters<Served['request']>[1]) => {
      const response = await served.request(path, init)
      await middleware.whenIdle()
      return response
    }
    return { state, get, middleware, served }
  }

  describe('when ctx.body is a string', () => {
    it('stores it and replays the same status, type and bytes', async () => {
      const { state, get } = await cached((ctx) => {
        ctx.body = 'hello'
      })
      const miss = await get()
      const hit = await get()
      expect(state.calls).toBe(1)
      expect(hit.text).toBe('hello')
      expect(hit.headers['content-type']).toBe(miss.headers['content-type'])
      expect(hit.headers['content-type']).toBe('text/plain; charset=utf-8')
      expect(hit.headers['content-length']).toBe('5')
      expect(hit.headers['cache-status']).toMatch(/^cachewire; hit/)
    })
  })

  describe('when ctx.body is a Buffer with a type the handler chose', () => {
    it("replays that type, never Koa's application/octet-stream", async () => {
      const { state, get } = await cached((ctx) => {
        ctx.type = 'text/css'
        ctx.body = Buffer.from('a{color:red}')
      })
      await get('/style.css')
      const hit = await get('/style.css')
      expect(state.calls).toBe(1)
      expect(hit.headers['content-type']).toBe('text/css; charset=utf-8')
      expect(hit.text).toBe('a{color:red}')
    })
  })

  describe('when ctx.body is an object', () => {
    it('stores the JSON Koa sends', async () => {
      const { state, get } = await cached((ctx) => {
        ctx.body = { id: 1, tags: ['a'] }
      })
      const miss = await get()
      const hit = await get()
      expect(state.calls).toBe(1)
      expect(miss.text).toBe('{"id":1,"tags":["a"]}')
      expect(hit.text).toBe(miss.text)
      expect(hit.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(hit.headers['content-length']).toBe(String(miss.body.length))
    })
  })

  describe('when ctx.body is a stream', () => {
    it('tees it to the client and the cache', async () => {
      const { state, get } = await cached((ctx) => {
        ctx.type = 'text/csv'
        ctx.body = Readable.from([Buffer.from('a,b\n'), Buffer.from('1,2\n')])
      })
      const miss = await get()
      const hit = await get()
      expect(miss.text).toBe('a,b\n1,2\n')
      expect(hit.text).toBe('a,b\n1,2\n')
      expect(hit.headers['content-type']).toBe('text/csv; charset=utf-8')
      expect(state.calls).toBe(1)
    })

    it('keeps a Content-Length the handler set', async () => {
      const { get } = await cached((ctx) => {
        ctx.body = Readable.from([Buffer.from('abc')])
        ctx.length = 3
      })
      const miss = await get()
      expect(miss.headers['content-length']).toBe('3')
      const hit = await get()
      expect(hit.headers['content-length']).toBe('3')
    })

    it('streams a body over storage.maxEntryBytes through in full and stores nothing', async () => {
      const chunk = Buffer.alloc(1024, 'x')
      const { state, get } = await cached(
        (ctx) => {
          ctx.body = Readable.from([chunk, chunk, chunk])
        },
        { ttl: '1m', storage: { maxEntryBytes: 2048 } }
      )
      const first = await get()
      const second = await get()
      expect(first.body.length).toBe(3072)
      expect(second.body.length).toBe(3072)
      expect(state.calls).toBe(2)
    })

    it('never stores a stream that errored', async () => {
      let fail = true
      const { state, get } = await cached((ctx) => {
        const broken = fail
        fail = false
        ctx.body = Readable.from(
          (async function* body() {
            yield Buffer.from('partial')
            if (broken) throw new Error('disk gone')
            yield Buffer.from(' whole')
          })()
        )
      })
      // Koa 2 leaves a response whose stream failed mid-way open (Koa 3 ends it): give up waiting.
      await get('/', { timeoutMs: 300 }).catch(() => undefined)
      const second = await get()
      expect(second.text).toBe('partial whole')
      expect(state.calls).toBe(2)
    })

    it('stores the body of a miss answered 304 to the client', async () => {
      const { state, get } = await cached((ctx) => {
        ctx.set('ETag', '"v1"')
        ctx.body = Readable.from([Buffer.from('streamed')])
      })
      const notModified = await get('/', { headers: { 'if-none-match': '"v1"' } })
      expect(notModified.status).toBe(304)
      expect(notModified.body.length).toBe(0)
      const hit = await get()
      expect(hit.text).toBe('streamed')
      expect(state.calls).toBe(1)
    })
  })

  describe('when ctx.body is null', () => {
    it('stores a 204 and replays it without a body or a type', async () => {
      const { state, get } = await cached((ctx) => {
        ctx.body = null
      })
      const miss = await get()
      const hit = await get()
      expect(miss.status).toBe(204)
      expect(hit.status).toBe(204)
      expect(hit.body.length).toBe(0)
      expect(hit.headers['content-type']).toBeUndefined()
      expect(state.calls).toBe(1)
    })

    it('stores the status text Koa sends for a status set without a body', async () => {
      const { state, get } = await cached((ctx) => {
        ctx.status = 404
      })
      const miss = await get()
      const hit = await get()
      expect(miss.text).toBe('Not Found')
      expect(hit.status).toBe(404)
      expect(hit.text).toBe('Not Found')
      expect(hit.headers['content-type']).toBe('text/plain; charset=utf-8')
      expect(state.calls).toBe(1)
    })
  })

  describe('when the handler sets ctx.respond = false', () => {
    it('passes its own response through and stores nothing', async () => {
      const { state, get } = await cached((ctx) => {
        ctx.respond = false
        ctx.res.writeHead(200, { 'content-type': 'text/plain' })
        ctx.res.end('raw')
      })
      const first = await get()
      const second = await get()
      expect(first.text).toBe('raw')
      expect(second.text).toBe('raw')
      expect(state.calls).toBe(2)
    })
  })

  describe('when the handler sets ctx.respond = false during a revalidation', () => {
    it('hands its response to the client through the engine and drops the stale entry', async () => {
      let now = Date.UTC(2030, 0, 1)
      const { state, get } = await cached(
        (ctx) => {
          if (state.calls === 1) {
            ctx.set('cache-control', 'max-age=10')
            ctx.set('etag', '"v1"')
            ctx.body = 'stored v1'
            return
          }
          ctx.respond = false
          ctx.res.writeHead(200, { 'content-type': 'text/plain' })
          ctx.res.end(`raw v${state.calls}`)
        },
        { clock: () => now }
      )
      expect((await get()).text).toBe('stored v1')
      now += 20_000
      const revalidated = await get()
      expect(revalidated.text).toBe('raw v2')
      expect(revalidated.headers['cache-status']).toMatch(/^cachewire; fwd=stale; fwd-status=200/)
      expect((await get()).text).toBe('raw v3')
    })
  })

  describe('when the handler throws', () => {
    it('lets the error reach Koa and stores nothing', async () => {
      const { state, get } = await cached((ctx) => {
        ctx.throw(418, 'short and stout', { expose: true })
      })
      const first = await get()
      const second = await get()
      expect(first.status).toBe(418)
      expect(first.text).toBe('short and stout')
      expect(second.status).toBe(418)
      expect(state.calls).toBe(2)
    })

    it('says how the error passed the cache in Cache-Status', async () => {
      const { get } = await cached(() => {
        throw new Error('boom')
      })
      const failed = await get()
      expect(failed.status).toBe(500)
      expect(failed.headers['cache-status']).toBe('cachewire; fwd=uri-miss; fwd-status=500')
    })

    it('lets middleware before the cache catch it', async () => {
      const app = new Koa()
      const seen: unknown[] = []
      app.use(async (ctx, next) => {
        try {
          await next()
        } catch (error) {
          seen.push(error)
          ctx.status = 503
          ctx.body = 'handled'
        }
      })
      app.use(cacheMiddleware({ ttl: '1m' }))
      app.use(() => {
        throw new Error('boom')
      })
      const { request } = await serve(app)
      const response = await request('/')
      expect(response.status).toBe(503)
      expect(response.text).toBe('handled')
      expect(seen).toHaveLength(1)
    })
  })

  describe('HEAD', () => {
    it('is answered from the GET entry with the full Content-Length and no body', async () => {
      const { state, get } = await cached((ctx) => {
        ctx.body = 'twelve bytes'
      })
      await get()
      const head = await get('/', { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.headers['content-length']).toBe('12')
      expect(head.body.length).toBe(0)
      expect(state.calls).toBe(1)
    })

    it('keeps the stored Content-Length over one set before the cache, on GET and HEAD hits', async () => {
      const app = new Koa()
      app.silent = true
      // Middleware before the cache that sets a length of its own (wrong for any body here).
      app.use(async (ctx, next) => {
        ctx.set('Content-Length', '999')
        await next()
      })
      const middleware = cacheMiddleware({ ttl: '1m' })
      app.use(middleware)
      app.use((ctx) => {
        ctx.body = 'twelve bytes'
      })
      const { request } = await serve(app)
      await request('/')
      await middleware.whenIdle()
      const hit = await request('/')
      const head = await request('/', { method: 'HEAD' })
      expect(hit.headers['cache-status']).toMatch(/^cachewire; hit/)
      expect(hit.headers['content-length']).toBe('12')
      expect(hit.text).toBe('twelve bytes')
      expect(head.headers['cache-status']).toMatch(/^cachewire; hit/)
      expect(head.headers['content-length']).toBe('12')
      expect(head.body.length).toBe(0)
    })
  })

  if (name === 'koa 2') {
    it('captures a Blob body as the JSON Koa 2 sends for it', async () => {
      const { get } = await cached((ctx) => void (ctx.body = new Blob(['not sent'])))
      const miss = await get()
      const hit = await get()
      expect(miss.text).toBe('{}')
      expect(hit.text).toBe('{}')
      expect(hit.headers['content-type']).toBe(miss.headers['content-type'])
    })
  }

  // Koa 2 sends these as JSON; only Koa 3 streams them.
  if (name === 'koa 3')
    describe('Koa 3 web bodies', () => {
      const cases: Array<[string, (ctx: Context) => void]> = [
        ['Blob', (ctx) => void (ctx.body = new Blob(['blob body'], { type: 'text/markdown' }))],
        [
          'ReadableStream',
          (ctx) => {
            ctx.type = 'text/markdown'
            ctx.body = new Blob(['blob body']).stream()
          },
        ],
        [
          'Response',
          (ctx) =>
            void (ctx.body = new Response('blob body', {
              headers: { 'content-type': 'text/markdown' },
            })),
        ],
      ]
      it.each(cases)('stores a %s body', async (_kind, handler) => {
        const { state, get } = await cached(handler)
        const miss = await get()
        const hit = await get()
        expect(miss.text).toBe('blob body')
        expect(hit.text).toBe('blob body')
        expect(hit.headers['content-type']).toBe(miss.headers['content-type'])
        expect(hit.headers['content-type']).toMatch(/^text\/markdown/)
        expect(state.calls).toBe(1)
      })
    })
})
