import { createReadStream, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { request as httpRequest } from 'node:http'
import compression from 'compression'
import type { Express, NextFunction, Request, Response } from 'express'
import { describe, expect, it } from 'vitest'
import { cacheMiddleware, type CacheMiddleware } from '../src/index.js'
import { listen, matrix, request, settle, sleep, type Reply } from './helpers.js'

const cases = await matrix('capture')
const dir = mkdtempSync(join(tmpdir(), 'cachewire-express-'))
const file = join(dir, 'hello.txt')
writeFileSync(file, 'hello from a file\n')
const big = 'x'.repeat(4096)

describe.each(cases)('capture on $express with $store', ({ create, createStore }) => {
  /** An app with the cache in front of `mount`, counting handler runs per path. */
  async function serve(
    mount: (app: Express, count: (req: Request) => void) => void,
    maxEntryBytes?: number
  ) {
    const app = create()
    const calls = new Map<string, number>()
    const cache = cacheMiddleware({ storage: { store: createStore(), maxEntryBytes }, ttl: '1m' })
    app.use(cache)
    mount(app, (req) => calls.set(req.path, (calls.get(req.path) ?? 0) + 1))
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

  async function missThenHit(path: string, mount: Parameters<typeof serve>[0]) {
    const app = await serve(mount)
    const first = await app.get(path)
    const second = await app.get(path)
    return { app, first, second }
  }

  const paths: Array<[string, (req: Request, res: Response) => void, string]> = [
    ['res.send', (_req, res) => void res.send('sent'), 'sent'],
    ['res.json', (_req, res) => void res.json({ ok: true }), '{"ok":true}'],
    ['res.end', (_req, res) => void res.end('ended'), 'ended'],
    [
      'res.write + res.end',
      (_req, res) => {
        res.setHeader('content-type', 'text/plain')
        res.write('a')
        res.write(Buffer.from('b'))
        res.end('c')
      },
      'abc',
    ],
    ['stream.pipe(res)', (_req, res) => void Readable.from(['s1', 's2', 's3']).pipe(res), 's1s2s3'],
    [
      'res.sendFile',
      (_req, res) => void res.sendFile(file, { maxAge: '1m' }),
      'hello from a file\n',
    ],
    ['fs stream pipe', (_req, res) => void createReadStream(file).pipe(res), 'hello from a file\n'],
    ['res.status(x).end()', (_req, res) => void res.status(204).end(), ''],
    [
      'res.writeHead with headers',
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/csv', 'x-a': '1' })
        res.end('x,y')
      },
      'x,y',
    ],
    [
      'res.writeHead with a flat array',
      (_req, res) => {
        res.writeHead(200, 'Fine', ['content-type', 'text/plain', 'link', '<a>', 'link', '<b>'])
        res.end('flat')
      },
      'flat',
    ],
  ]

  for (const [name, handler, body] of paths) {
    it(`${name}: a miss runs the handler, the hit replays status, headers and bytes`, async () => {
      const { app, first, second } = await missThenHit('/p', (a, count) =>
        a.get('/p', (req, res) => {
          count(req)
          handler(req, res)
        })
      )
      expect(first.text).toBe(body)
      expect(first.headers['cache-status']).toMatch(/fwd=uri-miss/)
      expect(second.status).toBe(first.status)
      expect(second.text).toBe(body)
      expect(second.headers['content-type']).toBe(first.headers['content-type'])
      expect(second.headers['cache-status']).toMatch(/; hit/)
      expect(app.calls('/p')).toBe(1)
    })
  }

  for (const [name, handler, body] of paths) {
    it(`${name}: a revalidation runs the handler buffered and sends its answer whole`, async () => {
      const app = await serve((a, count) =>
        a.get('/r', (req, res) => {
          count(req)
          // Stored, but never reused without asking the handler (RFC 9111 §5.2.2.4).
          res.setHeader('cache-control', 'no-cache')
          res.setHeader('last-modified', new Date(Date.now() - 60_000).toUTCString())
          handler(req, res)
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
      if (first.status === 200) expect(second.headers['cache-status']).toMatch(/fwd=stale/)
      expect(app.calls('/r')).toBe(3)
    })
  }

  it('res.sendFile with max-age=0: the stale entry is revalidated and send’s 304 keeps it', async () => {
    const { app, first, second } = await missThenHit('/f', (a, count) =>
      a.get('/f', (req, res) => {
        count(req)
        res.sendFile(file)
      })
    )
    expect(first.headers['cache-control']).toBe('public, max-age=0')
    expect(second.status).toBe(200)
    expect(second.text).toBe('hello from a file\n')
    expect(second.headers['cache-status']).toMatch(/fwd=stale; fwd-status=304/)
    expect(app.calls('/f')).toBe(2)
  })

  it('res.writeHead with repeated fields replays every line', async () => {
    const { second } = await missThenHit('/p', (a) =>
      a.get('/p', (_req, res) => {
        res.writeHead(200, ['link', '<a>', 'link', '<b>'])
        res.end('x')
      })
    )
    expect(second.headers.link).toBe('<a>, <b>')
  })

  it('res.redirect(301) is stored and replayed; a 302 is not', async () => {
    const app = await serve((a, count) => {
      a.get('/moved', (req, res) => {
        count(req)
        res.redirect(301, '/new')
      })
      a.get('/found', (req, res) => {
        count(req)
        res.redirect('/elsewhere')
      })
    })
    await app.get('/moved')
    const hit = await app.get('/moved')
    expect(hit.status).toBe(301)
    expect(hit.headers.location).toBe('/new')
    expect(app.calls('/moved')).toBe(1)
    await app.get('/found')
    const again = await app.get('/found')
    expect(again.status).toBe(302)
    expect(again.headers.location).toBe('/elsewhere')
    expect(app.calls('/found')).toBe(2)
  })

  it('next(err): the app error handler answers, the 500 is not stored', async () => {
    const app = await serve((a, count) => {
      a.get('/boom', (req, _res, next) => {
        count(req)
        next(new Error('boom'))
      })
      a.use(
        (error: Error, _req: Request, res: Response, _next: NextFunction) =>
          void res.status(500).send(`handled ${error.message}`)
      )
    })
    const first = await app.get('/boom')
    const second = await app.get('/boom')
    expect(first.status).toBe(500)
    expect(first.text).toBe('handled boom')
    expect(second.text).toBe('handled boom')
    expect(app.calls('/boom')).toBe(2)
  })

  it('a thrown error reaches Express’s final handler as a 500, not stored', async () => {
    const app = await serve((a, count) =>
      a.get('/throw', (req) => {
        count(req)
        throw new Error('thrown')
      })
    )
    expect((await app.get('/throw')).status).toBe(500)
    expect((await app.get('/throw')).status).toBe(500)
    expect(app.calls('/throw')).toBe(2)
  })

  it('HEAD is answered from the GET entry and never stored itself', async () => {
    const app = await serve((a, count) =>
      a.get('/h', (req, res) => {
        count(req)
        res.send('head body')
      })
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
        a.get('/large', async (req, res) => {
          count(req)
          res.setHeader('content-type', 'text/plain')
          for (let i = 0; i < 10; i++) {
            res.write(chunk)
            await sleep(1)
          }
          res.end()
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
    const app = await serve((a, count) =>
      a.get('/slow', async (req, res) => {
        count(req)
        res.setHeader('content-type', 'text/plain')
        res.write('part one,')
        if (app_calls() === 1) {
          res.on('close', () => closed())
          await gate
        }
        res.end('part two')
      })
    )
    function app_calls() {
      return app.calls('/slow')
    }
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${app.server.url}/slow`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy()
          resolve()
        })
      })
      req.on('error', () => {})
      req.on('close', () => resolve())
      req.end()
      setTimeout(() => reject(new Error('no data')), 2000)
    })
    await clientGone
    release()
    await settle(app.cache)
    const next = await app.get('/slow')
    expect(next.text).toBe('part one,part two')
    expect(next.headers['cache-status']).toMatch(/fwd=uri-miss/)
    expect(app.calls('/slow')).toBe(2)
  })

  describe('with compression', () => {
    const gzip = { 'accept-encoding': 'gzip' }
    const identity = { 'accept-encoding': 'identity' }

    async function compressed(order: 'before' | 'after') {
      const app = create()
      let calls = 0
      const cache: CacheMiddleware = cacheMiddleware({
        storage: { store: createStore() },
        ttl: '1m',
      })
      if (order === 'before') app.use(compression(), cache)
      else app.use(cache, compression())
      app.get('/c', (_req, res) => {
        calls++
        res.type('text/plain').send(big)
      })
      const server = await listen(app)
      const get = async (headers: Record<string, string>) => {
        const reply = await request(server.url, '/c', { headers })
        await settle(cache)
        return reply
      }
      return { get, calls: () => calls }
    }

    it('before the cache: identity bytes are stored, each client gets its own encoding', async () => {
      const app = await compressed('before')
      const a = await app.get(gzip)
      const b = await app.get(identity)
      const c = await app.get(gzip)
      expect(app.calls()).toBe(1)
      expect(a.headers['content-encoding']).toBe('gzip')
      expect(b.headers['content-encoding']).toBeUndefined()
      expect(b.raw.toString()).toBe(big)
      expect(c.headers['content-encoding']).toBe('gzip')
      expect(c.text).toBe(big)
      expect(c.headers['cache-status']).toMatch(/; hit/)
    })

    it('after the cache: gzip and identity are separate variants (Vary: Accept-Encoding)', async () => {
      const app = await compressed('after')
      const a = await app.get(gzip)
      const b = await app.get(identity)
      const c = await app.get(gzip)
      const d = await app.get(identity)
      expect(app.calls()).toBe(2)
      expect(a.headers['content-encoding']).toBe('gzip')
      expect(b.headers['content-encoding']).toBeUndefined()
      expect(b.raw.toString()).toBe(big)
      expect(c.headers['content-encoding']).toBe('gzip')
      expect(c.headers['cache-status']).toMatch(/; hit/)
      expect(c.text).toBe(big)
      expect(d.headers['content-encoding']).toBeUndefined()
      expect(d.raw.toString()).toBe(big)
      expect(d.headers['cache-status']).toMatch(/; hit/)
    })
  })
})
