import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { describe, expect, it } from 'vitest'
import { responseCache, type ResponseCache } from '../src/index.js'
import { listen, matrix, request, settle, sleep, type Reply } from './helpers.js'

const cases = await matrix('capture')
const dir = mkdtempSync(join(tmpdir(), 'cachewire-fastify-'))
const file = join(dir, 'hello.txt')
writeFileSync(file, 'hello from a file\n')
const big = 'x'.repeat(4096)

type Handler = (request: FastifyRequest, reply: FastifyReply) => unknown

describe.each(cases)(
  'capture on $fastify with $store',
  ({ fastify, store, create, createStore, compress }) => {
    // Fastify writes the head before the body: on Redis the write's outcome is not known yet, and
    // `stored` is said only when known (on memory an admitted entry cannot fail to be stored).
    const STORED = store === 'memory' ? '; stored' : ''
    /** An app with the cache plugin in front of `mount`, counting handler runs per path. */
    async function serve(
      mount: (app: FastifyInstance, count: (request: FastifyRequest) => void) => void,
      maxEntryBytes?: number
    ) {
      const app = create()
      const calls = new Map<string, number>()
      const cache = responseCache({ storage: { store: createStore(), maxEntryBytes }, ttl: '1m' })
      await app.register(cache.plugin)
      mount(app, (request) =>
        calls.set(
          request.url.split('?')[0] ?? '',
          (calls.get(request.url.split('?')[0] ?? '') ?? 0) + 1
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
      return { get, calls: (path: string) => calls.get(path) ?? 0, cache, server, app }
    }

    // Every way a handler answers: its return value, reply.send of each payload kind, reply.code
    // and reply.header, and writing to reply.raw after reply.hijack().
    const paths: Array<[string, Handler, string, string | undefined]> = [
      ['async return of a string', async () => 'returned', 'returned', 'text/plain; charset=utf-8'],
      [
        'async return of an object (serialized)',
        async () => ({ ok: true }),
        '{"ok":true}',
        'application/json; charset=utf-8',
      ],
      [
        'async return of a Buffer',
        async (_request, reply) => (reply.type('application/octet-stream'), Buffer.from('bytes')),
        'bytes',
        'application/octet-stream',
      ],
      [
        'async return of a stream',
        async (_request, reply) => (reply.type('text/plain'), Readable.from(['s1', 's2', 's3'])),
        's1s2s3',
        'text/plain',
      ],
      [
        'reply.send of a string',
        (_request, reply) => void reply.send('sent'),
        'sent',
        'text/plain; charset=utf-8',
      ],
      [
        'reply.send of a Buffer',
        (_request, reply) => void reply.type('text/csv').send(Buffer.from('a,b')),
        'a,b',
        'text/csv',
      ],
      [
        'reply.send of an object',
        (_request, reply) => void reply.send({ list: [1, 'two'] }),
        '{"list":[1,"two"]}',
        'application/json; charset=utf-8',
      ],
      [
        'reply.send of a file stream',
        (_request, reply) => void reply.type('text/plain').send(createReadStream(file)),
        'hello from a file\n',
        'text/plain',
      ],
      [
        'reply.code and reply.header, then return reply.send',
        async (_request, reply) => reply.code(203).header('x-a', '1').send('coded'),
        'coded',
        'text/plain; charset=utf-8',
      ],
      [
        'reply.send in an async handler that returns nothing',
        async (_request, reply) => void reply.send('no return'),
        'no return',
        'text/plain; charset=utf-8',
      ],
      [
        'reply.hijack and reply.raw',
        (_request, reply) => {
          reply.hijack()
          reply.raw.writeHead(200, { 'content-type': 'text/plain', 'x-raw': 'yes' })
          reply.raw.write('raw ')
          reply.raw.end('end')
        },
        'raw end',
        'text/plain',
      ],
      ['reply.code(204).send()', (_request, reply) => void reply.code(204).send(), '', undefined],
    ]

    for (const [name, handler, body, type] of paths) {
      it(`${name}: a miss runs the handler, the hit replays status, headers and bytes`, async () => {
        const app = await serve((a, count) =>
          a.get('/p', (request, reply) => (count(request), handler(request, reply)))
        )
        const first = await app.get('/p')
        const second = await app.get('/p')
        expect(first.text).toBe(body)
        expect(first.headers['content-type']).toBe(type)
        expect(first.headers['cache-status']).toMatch(
          new RegExp(`fwd=uri-miss; fwd-status=\\d+${STORED}`)
        )
        expect(second.status).toBe(first.status)
        expect(second.text).toBe(body)
        expect(second.headers['content-type']).toBe(type)
        expect(second.headers['cache-status']).toMatch(/; hit/)
        expect(app.calls('/p')).toBe(1)
      })

      it(`${name}: a revalidation runs the handler buffered and sends its answer whole`, async () => {
        const app = await serve((a, count) =>
          a.get('/r', (request, reply) => {
            count(request)
            // Stored, but never reused without asking the handler (RFC 9111 §5.2.2.4). On reply.raw,
            // so a handler that hijacks the reply sends them too.
            reply.raw.setHeader('cache-control', 'no-cache')
            reply.raw.setHeader('last-modified', new Date(Date.now() - 60_000).toUTCString())
            return handler(request, reply)
          })
        )
        const first = await app.get('/r')
        const second = await app.get('/r')
        const third = await app.get('/r')
        for (const reply of [second, third]) {
          expect(reply.status).toBe(first.status)
          expect(reply.text).toBe(body)
          expect(reply.headers['content-type']).toBe(first.headers['content-type'])
        }
        if (first.status !== 204)
          expect(second.headers['cache-status']).toMatch(
            new RegExp(`fwd=stale; fwd-status=${first.status}; stored`)
          )
        expect(app.calls('/r')).toBe(3)
      })
    }

    if (fastify === 'fastify 5') {
      it('a web Response returned by the handler: status, headers and body are captured and replayed', async () => {
        const app = await serve((a, count) =>
          a.get('/web', async (request) => {
            count(request)
            return new Response('from a Response', {
              status: 200,
              headers: { 'content-type': 'text/plain', 'x-web': '1' },
            })
          })
        )
        await app.get('/web')
        const hit = await app.get('/web')
        expect(hit.text).toBe('from a Response')
        expect(hit.headers['x-web']).toBe('1')
        expect(hit.headers['cache-status']).toMatch(/; hit/)
        expect(app.calls('/web')).toBe(1)
      })
    }

    it('a redirect with max-age is stored with its Location', async () => {
      const app = await serve((a, count) => {
        a.get('/moved', (request, reply) => {
          count(request)
          void reply
            .code(301)
            .header('location', '/new')
            .header('cache-control', 'max-age=60')
            .send()
        })
      })
      await app.get('/moved')
      const hit = await app.get('/moved')
      expect(hit.status).toBe(301)
      expect(hit.headers.location).toBe('/new')
      expect(app.calls('/moved')).toBe(1)
    })

    it('a thrown error: Fastify’s error handler answers 500, nothing is stored', async () => {
      const app = await serve((a, count) =>
        a.get('/throw', async (request) => {
          count(request)
          throw new Error('thrown')
        })
      )
      const first = await app.get('/throw')
      expect(first.status).toBe(500)
      expect(JSON.parse(first.text)).toMatchObject({ statusCode: 500, message: 'thrown' })
      expect(first.headers['cache-status']).toBe('cachewire; fwd=uri-miss; fwd-status=500')
      expect((await app.get('/throw')).status).toBe(500)
      expect(app.calls('/throw')).toBe(2)
    })

    it('the error handler’s answer is what the cache sees: a 503 it marks max-age=60 is stored and replayed', async () => {
      const app = await serve((a, count) => {
        a.setErrorHandler((error, _request, reply) => {
          void reply
            .code(503)
            .header('cache-control', 'max-age=60')
            .send({ down: (error as Error).message })
        })
        a.get('/down', (request, reply) => {
          count(request)
          reply.send(new Error('maintenance'))
        })
      })
      const first = await app.get('/down')
      expect(first.status).toBe(503)
      expect(first.headers['cache-status']).toBe(
        `cachewire; fwd=uri-miss; fwd-status=503${STORED}${STORED === '' ? '' : '; ttl=60'}`
      )
      const second = await app.get('/down')
      expect(second.status).toBe(503)
      expect(second.text).toBe('{"down":"maintenance"}')
      expect(second.headers['cache-status']).toMatch(/; hit/)
      expect(app.calls('/down')).toBe(1)
    })

    it('the not-found handler’s answer is cached like any route’s (a 404 with max-age)', async () => {
      let runs = 0
      const app = await serve((a) => {
        a.setNotFoundHandler((request, reply) => {
          runs++
          void reply.code(404).header('cache-control', 'max-age=60').send(`no ${request.url}`)
        })
      })
      await app.get('/nowhere')
      const hit = await app.get('/nowhere')
      expect(hit.status).toBe(404)
      expect(hit.text).toBe('no /nowhere')
      expect(hit.headers['cache-status']).toMatch(/; hit/)
      expect(runs).toBe(1)
    })

    it('onSend hooks run once, on the miss, before and after the cache alike: the entry holds what went on the wire', async () => {
      const app = create()
      const cache = responseCache({ storage: { store: createStore() }, ttl: '1m' })
      const ran: string[] = []
      app.addHook('onSend', async (_request, reply, payload) => {
        ran.push('before')
        reply.header('x-before', '1')
        return `${String(payload)}+before`
      })
      await app.register(cache.plugin)
      app.addHook('onSend', async (_request, reply, payload) => {
        ran.push('after')
        reply.header('x-after', '1')
        return `${String(payload)}+after`
      })
      let responses = 0
      app.addHook('onResponse', async () => void responses++)
      app.get('/o', async () => 'body')
      const { url } = await listen(app)
      const miss = await request(url, '/o')
      await settle(cache)
      const hit = await request(url, '/o')
      await settle(cache)
      expect(miss.text).toBe('body+before+after')
      expect(hit.text).toBe('body+before+after')
      expect(hit.headers['x-before']).toBe('1')
      expect(hit.headers['x-after']).toBe('1')
      expect(hit.headers['content-length']).toBe(String('body+before+after'.length))
      expect(hit.headers['cache-status']).toMatch(/; hit/)
      expect(ran).toEqual(['before', 'after'])
      // onResponse hooks (logging, metrics) run for hits too.
      expect(responses).toBe(2)
    })

    it('headers an earlier onRequest hook set on the reply (CORS) are on hits too; a later hook does not run for hits', async () => {
      const app = create()
      const cache = responseCache({ storage: { store: createStore() }, ttl: '1m' })
      app.addHook(
        'onRequest',
        async (_request, reply) => void reply.header('access-control-allow-origin', '*')
      )
      await app.register(cache.plugin)
      let later = 0
      app.addHook('onRequest', async () => void later++)
      app.get('/cors', async () => 'shared')
      const { url } = await listen(app)
      await request(url, '/cors')
      await settle(cache)
      const hit = await request(url, '/cors')
      expect(hit.headers['cache-status']).toMatch(/; hit/)
      expect(hit.headers['access-control-allow-origin']).toBe('*')
      expect(later).toBe(1)
    })

    it('HEAD is answered from the GET entry and never stored itself', async () => {
      const app = await serve((a, count) =>
        a.get('/h', async (request) => (count(request), 'head body'))
      )
      const head1 = await app.get('/h', undefined, 'HEAD')
      expect(head1.status).toBe(200)
      expect(head1.raw.length).toBe(0)
      await app.get('/h')
      const head2 = await app.get('/h', undefined, 'HEAD')
      expect(head2.raw.length).toBe(0)
      expect(head2.headers['content-length']).toBe('9')
      expect(head2.headers['cache-status']).toMatch(/; hit/)
      expect(app.calls('/h')).toBe(2)
    })

    it('a body over storage.maxEntryBytes streams through complete and is not stored', async () => {
      const chunk = 'y'.repeat(500)
      const app = await serve(
        (a, count) =>
          a.get('/large', async (request, reply) => {
            count(request)
            reply.type('text/plain')
            return Readable.from(
              (async function* body() {
                for (let i = 0; i < 10; i++) {
                  await sleep(1)
                  yield chunk
                }
              })()
            )
          }),
        1000
      )
      const first = await app.get('/large')
      const second = await app.get('/large')
      expect(first.text).toBe(chunk.repeat(10))
      expect(second.text).toBe(chunk.repeat(10))
      expect(app.calls('/large')).toBe(2)
    })

    it('an aborted response (client gone mid-stream) is not stored', async () => {
      let release!: () => void
      const gate = new Promise<void>((resolve) => (release = resolve))
      let closed!: () => void
      const clientGone = new Promise<void>((resolve) => (closed = resolve))
      let runs = 0
      const app = await serve((a) =>
        a.get('/slow', async (request, reply) => {
          runs++
          reply.type('text/plain')
          const first = runs === 1
          if (first) reply.raw.on('close', () => closed())
          return Readable.from(
            (async function* body() {
              yield 'part one,'
              if (first) await gate
              yield 'part two'
            })()
          )
        })
      )
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${app.server.url}/slow`, { agent: false }, (res) => {
          res.once('data', () => {
            req.destroy()
            resolve()
          })
        })
        req.on('error', () => {})
        req.end()
        setTimeout(() => reject(new Error('no data')), 2000)
      })
      await clientGone
      release()
      await settle(app.cache)
      const next = await app.get('/slow')
      expect(next.text).toBe('part one,part two')
      expect(next.headers['cache-status']).toMatch(/fwd=uri-miss/)
      expect(runs).toBe(2)
    })

    describe('with @fastify/compress', () => {
      const gzip = { 'accept-encoding': 'gzip' }
      const identity = { 'accept-encoding': 'identity' }

      /**
       * Fastify compresses in an onSend hook, which runs before the head is written whatever its
       * place: the cache stores what went on the wire. @fastify/compress sends Vary: Accept-Encoding
       * only on what it compressed, so the encodings are keyed explicitly (`keys.keyedHeaders`).
       */
      async function compressed(
        order: 'before' | 'after',
        keyed: boolean
      ): Promise<{
        get(headers: Record<string, string>): Promise<Reply>
        calls(): number
        cache: ResponseCache
      }> {
        const app = create()
        let calls = 0
        const cache = responseCache({
          storage: { store: createStore() },
          ttl: '1m',
          ...(keyed ? { keys: { keyedHeaders: ['accept-encoding'] } } : {}),
        })
        if (order === 'before') await app.register(compress, { threshold: 1024 })
        await app.register(cache.plugin)
        if (order === 'after') await app.register(compress, { threshold: 1024 })
        app.get('/c', async (_request, reply) => {
          calls++
          return reply.type('text/plain').send(big)
        })
        const server = await listen(app)
        const get = async (headers: Record<string, string>) => {
          const reply = await request(server.url, '/c', { headers })
          await settle(cache)
          return reply
        }
        return { get, calls: () => calls, cache }
      }

      for (const order of ['before', 'after'] as const) {
        it(`${order} the cache, Accept-Encoding keyed: gzip and identity each get their own entry, bytes and headers agree`, async () => {
          const app = await compressed(order, true)
          const a = await app.get(gzip)
          const b = await app.get(identity)
          const c = await app.get(gzip)
          const d = await app.get(identity)
          expect(app.calls()).toBe(2)
          expect(a.headers['content-encoding']).toBe('gzip')
          expect(a.headers.vary).toMatch(/accept-encoding/i)
          expect(b.headers['content-encoding']).toBeUndefined()
          expect(b.raw.toString()).toBe(big)
          expect(c.headers['content-encoding']).toBe('gzip')
          expect(c.headers['cache-status']).toMatch(/; hit/)
          expect(c.text).toBe(big)
          expect(c.raw.equals(a.raw)).toBe(true)
          expect(d.headers['content-encoding']).toBeUndefined()
          expect(d.raw.toString()).toBe(big)
          expect(d.headers['cache-status']).toMatch(/; hit/)
        })

        it(`${order} the cache, not keyed: a client never gets an encoding it did not accept`, async () => {
          const app = await compressed(order, false)
          for (const headers of [gzip, identity, gzip, identity, identity, gzip]) {
            const reply = await app.get(headers)
            if (headers === identity) expect(reply.headers['content-encoding']).toBeUndefined()
            expect(reply.text).toBe(big)
          }
        })
      }
    })
  }
)
