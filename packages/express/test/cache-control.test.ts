import { describe, expect, it } from 'vitest'
import { cacheControl, cacheMiddleware, InvalidOptionError, MemoryStore } from '../src/index.js'
import { EXPRESS_VERSIONS, listen, request, settle } from './helpers.js'

describe.each(EXPRESS_VERSIONS)('cacheControl on $express', ({ create }) => {
  it('sets Cache-Control and the CDN fields on successful GETs', async () => {
    const app = create()
    app.use(
      cacheControl({
        public: true,
        maxAge: '1m',
        staleWhileRevalidate: '30s',
        cdnCacheControl: { maxAge: '10m' },
        surrogateControl: 'max-age=3600',
      })
    )
    app.get('/ok', (_req, res) => void res.send('ok'))
    const { url } = await listen(app)
    const reply = await request(url, '/ok')
    expect(reply.headers['cache-control']).toBe('public, max-age=60, stale-while-revalidate=30')
    expect(reply.headers['cdn-cache-control']).toBe('max-age=600')
    expect(reply.headers['surrogate-control']).toBe('max-age=3600')
  })

  it('leaves a handler’s own Cache-Control alone unless override is set', async () => {
    const app = create()
    app.get(
      '/own',
      cacheControl({ maxAge: '60s' }),
      (_req, res) => void res.set('cache-control', 'no-store').send('x')
    )
    app.get(
      '/forced',
      cacheControl({ maxAge: '1 minute', override: true }),
      (_req, res) => void res.set('cache-control', 'no-store').send('x')
    )
    const { url } = await listen(app)
    expect((await request(url, '/own')).headers['cache-control']).toBe('no-store')
    expect((await request(url, '/forced')).headers['cache-control']).toBe('max-age=60')
  })

  it('never marks errors or non-GET responses cacheable', async () => {
    const app = create()
    app.use(cacheControl({ public: true, maxAge: '1h' }))
    app.get('/fail', (_req, res) => void res.status(500).send('fail'))
    app.get('/missing', (_req, res) => void res.status(404).send('missing'))
    app.post('/write', (_req, res) => void res.send('written'))
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
    const cache = cacheMiddleware({ storage: { store: new MemoryStore() }, ttl: '1m' })
    app.use(cacheControl({ private: true, maxAge: 0 }), cache)
    app.get('/p', (_req, res) => {
      calls++
      res.send('p')
    })
    const { url } = await listen(app)
    await request(url, '/p')
    await settle(cache)
    const hit = await request(url, '/p')
    expect(hit.headers['cache-status']).toMatch(/; hit/)
    expect(hit.headers['cache-control']).toBe('private, max-age=0')
    expect(calls).toBe(1)
  })
})

describe('cacheControl options', () => {
  it('reads durations by the unit rule: a bare 60 is refused as likely seconds', () => {
    expect(() => cacheControl({ maxAge: 60 })).toThrow(/options\.maxAge .*'60s'/)
    expect(() => cacheControl({ staleWhileRevalidate: 30 })).toThrow(
      /options\.staleWhileRevalidate/
    )
    expect(() => cacheControl({ maxAge: 60_000 })).not.toThrow()
  })

  it('throws InvalidOptionError naming the directive', () => {
    expect(() => cacheControl({ maxAge: -1 })).toThrow(/options\.maxAge/)
    expect(() => cacheControl({ public: true, private: true })).toThrow(InvalidOptionError)
    expect(() => cacheControl({ cdnCacheControl: { sMaxage: '1500ms' } })).toThrow(
      /options\.cdnCacheControl\.sMaxage/
    )
    expect(() => cacheControl({ overide: true } as never)).toThrow(/options\.overide/)
    expect(() => cacheControl({})).toThrow(InvalidOptionError)
    expect(() => cacheControl({ surrogateControl: 'a\r\nb' })).toThrow(/options\.surrogateControl/)
  })
})
