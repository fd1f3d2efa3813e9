import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import {
  cacheControl,
  conditional,
  InvalidOptionError,
  MemoryStore,
  responseCache,
} from '../src/index.js'
import { FASTIFY_VERSIONS, listen, request, settle } from './helpers.js'

describe.each(FASTIFY_VERSIONS)('cacheControl on $fastify', ({ create }) => {
  it('sets Cache-Control and the CDN fields on successful GETs', async () => {
    const app = create()
    app.addHook(
      'onRequest',
      cacheControl({
        public: true,
        maxAge: '1m',
        staleWhileRevalidate: '30s',
        cdnCacheControl: { maxAge: '10m' },
        surrogateControl: 'max-age=3600',
      })
    )
    app.get('/ok', async () => 'ok')
    const { url } = await listen(app)
    const reply = await request(url, '/ok')
    expect(reply.headers['cache-control']).toBe('public, max-age=60, stale-while-revalidate=30')
    expect(reply.headers['cdn-cache-control']).toBe('max-age=600')
    expect(reply.headers['surrogate-control']).toBe('max-age=3600')
  })

  it('on a route; leaves a handler’s own Cache-Control (reply.header) alone unless override is set', async () => {
    const app = create()
    app.get('/own', { onRequest: cacheControl({ maxAge: '60s' }) }, async (_request, reply) =>
      reply.header('cache-control', 'no-store').send('x')
    )
    app.get(
      '/forced',
      { onRequest: cacheControl({ maxAge: '1 minute', override: true }) },
      async (_request, reply) => reply.header('cache-control', 'no-store').send('x')
    )
    app.get('/plain', { onRequest: cacheControl({ maxAge: '1 minute' }) }, async () => 'x')
    const { url } = await listen(app)
    expect((await request(url, '/own')).headers['cache-control']).toBe('no-store')
    expect((await request(url, '/forced')).headers['cache-control']).toBe('max-age=60')
    expect((await request(url, '/plain')).headers['cache-control']).toBe('max-age=60')
  })

  it('never marks errors or non-GET responses cacheable', async () => {
    const app = create()
    app.addHook('onRequest', cacheControl({ public: true, maxAge: '1h' }))
    app.get('/fail', async () => {
      throw new Error('fail')
    })
    app.get('/missing', async (_request, reply) => reply.code(404).send('missing'))
    app.post('/write', async () => 'written')
    const { url } = await listen(app)
    expect((await request(url, '/fail')).headers['cache-control']).toBeUndefined()
    expect((await request(url, '/missing')).headers['cache-control']).toBe('public, max-age=3600')
    expect(
      (await request(url, '/write', { method: 'POST' })).headers['cache-control']
    ).toBeUndefined()
  })

  it('before the server cache: hits carry the fields, the entry is governed by the cache’s own ttl', async () => {
    const app = create()
    let calls = 0
    const cache = responseCache({ storage: { store: new MemoryStore() }, ttl: '1m' })
    app.addHook('onRequest', cacheControl({ private: true, maxAge: 0 }))
    await app.register(cache.plugin)
    app.get('/p', async () => (calls++, 'p'))
    const { url } = await listen(app)
    await request(url, '/p')
    await settle(cache)
    const hit = await request(url, '/p')
    expect(hit.headers['cache-status']).toMatch(/; hit/)
    expect(hit.headers['cache-control']).toBe('private, max-age=0')
    expect(calls).toBe(1)
  })

  it('after the server cache: the cache reads the fields like the handler’s own', async () => {
    const app = create()
    const cache = responseCache({ storage: { store: new MemoryStore() } })
    await app.register(cache.plugin)
    app.addHook('onRequest', cacheControl({ public: true, maxAge: '2m' }))
    app.get('/q', async () => 'q')
    const { url } = await listen(app)
    const miss = await request(url, '/q')
    expect(miss.headers['cache-status']).toBe(
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=120'
    )
  })
})

describe('cacheControl options', () => {
  it('reads durations by the unit rule: a bare 60 is refused as likely seconds', () => {
    expect(() => cacheControl({ maxAge: 60 })).toThrow(/options\.maxAge .*'60s'/)
    expect(() => cacheControl({ maxAge: 60_000 })).not.toThrow()
    expect(() => cacheControl({ overide: true } as never)).toThrow(/options\.overide/)
    expect(() => cacheControl({})).toThrow(InvalidOptionError)
  })
})

describe.each(FASTIFY_VERSIONS)('conditional on $fastify', ({ create }) => {
  async function serve() {
    const app = create()
    app.addHook('onRequest', conditional())
    app.get('/json', async () => ({ a: 1 }))
    app.get('/stream', async (_request, reply) =>
      reply.type('text/plain').send(Readable.from(['x', 'y']))
    )
    app.get('/dated', async (_request, reply) =>
      reply.header('last-modified', new Date(Date.now() - 60_000).toUTCString()).send('dated')
    )
    app.get('/error', async (_request, reply) => reply.code(500).send('fail'))
    app.get('/seen', async (request) => `saw ${String(request.headers['if-none-match'])}`)
    return listen(app)
  }

  it('gives a strong ETag and answers a match with a 304 without a body or its Content-Type', async () => {
    const { url } = await serve()
    const first = await request(url, '/json')
    const etag = first.headers.etag as string
    expect(etag).toMatch(/^"[^"]+"$/)
    const again = await request(url, '/json', { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(again.raw.length).toBe(0)
    expect(again.headers['content-type']).toBeUndefined()
    expect(again.headers.etag).toBe(etag)
  })

  it('hashes streamed bodies too, and answers If-Modified-Since from Last-Modified', async () => {
    const { url } = await serve()
    const first = await request(url, '/stream')
    expect(first.text).toBe('xy')
    const etag = first.headers.etag as string
    expect(
      (await request(url, '/stream', { headers: { 'if-none-match': `W/${etag}, "other"` } })).status
    ).toBe(304)
    expect(
      (await request(url, '/stream', { headers: { 'if-none-match': '"other"' } })).status
    ).toBe(200)
    expect(
      (await request(url, '/dated', { headers: { 'if-modified-since': new Date().toUTCString() } }))
        .status
    ).toBe(304)
  })

  it('leaves non-2xx responses alone; the handler does not see the client’s validators', async () => {
    const { url } = await serve()
    const failed = await request(url, '/error', { headers: { 'if-none-match': '*' } })
    expect(failed.status).toBe(500)
    expect(failed.headers.etag).toBeUndefined()
    expect((await request(url, '/seen', { headers: { 'if-none-match': '"x"' } })).text).toBe(
      'saw undefined'
    )
  })

  it('before the server cache: the ETag it makes is stored, and hits answer 304 with it', async () => {
    const app = create()
    const cache = responseCache({ storage: { store: new MemoryStore() }, ttl: '1m' })
    app.addHook('onRequest', conditional())
    await app.register(cache.plugin)
    let calls = 0
    app.get('/doc', async () => (calls++, 'document'))
    const { url } = await listen(app)
    const first = await request(url, '/doc')
    await settle(cache)
    const etag = first.headers.etag as string
    const hit = await request(url, '/doc', { headers: { 'if-none-match': etag } })
    expect(hit.status).toBe(304)
    expect(hit.headers.etag).toBe(etag)
    expect(calls).toBe(1)
  })
})

describe('conditional options', () => {
  it('refuses unknown and old names', () => {
    expect(() => conditional({ maxBodySize: 1 } as never)).toThrow(/maxBodyBytes/)
    expect(() => conditional({ etag: 'medium' } as never)).toThrow(InvalidOptionError)
  })
})
