import { describe, expect, it } from 'vitest'
import { cacheControl, cacheMiddleware, InvalidOptionError } from '../src/index.js'
import { KOAS, serve } from './helpers.js'

describe('cacheControl(directives)', () => {
  const invalid: Array<[string, Parameters<typeof cacheControl>[0]]> = [
    ['maxAge', { maxAge: -1 }],
    ['maxAge', { maxAge: 60 }],
    ['sMaxage', { sMaxage: '1500ms' }],
    ['private', { public: true, private: true }],
    ['cdnCacheControl', { maxAge: '1s', cdnCacheControl: {} }],
    ['cdnCacheControl.maxAge', { cdnCacheControl: { maxAge: 600 } }],
    ['surrogateControl', { maxAge: '1s', surrogateControl: 'a\r\nb' }],
    ['override', { maxAge: '1s', override: 'yes' as never }],
    ['maxage', { maxage: '1m' } as never],
    ['', {}],
  ]
  it.each(invalid)('throws an InvalidOptionError naming "%s"', (option, options) => {
    let thrown: unknown
    try {
      cacheControl(options)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError)
    expect((thrown as InvalidOptionError).option).toBe(option)
  })

  it('is a named middleware', () => {
    expect(cacheControl({ maxAge: '1s' }).name).toBe('cacheControl')
  })
})

describe.each(KOAS)('cacheControl on $name', ({ Koa }) => {
  async function app(options: Parameters<typeof cacheControl>[0], status = 200, own?: string) {
    const koa = new Koa()
    koa.silent = true
    koa.use(cacheControl(options))
    koa.use((ctx) => {
      if (own !== undefined) ctx.set('cache-control', own)
      ctx.status = status
      ctx.body = 'x'
    })
    return serve(koa)
  }

  it('sets Cache-Control and the CDN fields on a GET', async () => {
    const { request } = await app({
      public: true,
      maxAge: '1m',
      cdnCacheControl: { maxAge: '10m' },
      surrogateControl: 'max-age=3600',
    })
    const response = await request('/')
    expect(response.headers['cache-control']).toBe('public, max-age=60')
    expect(response.headers['cdn-cache-control']).toBe('max-age=600')
    expect(response.headers['surrogate-control']).toBe('max-age=3600')
  })

  it('leaves errors and unsafe methods alone', async () => {
    const failing = await app({ maxAge: '60s' }, 500)
    expect((await failing.request('/')).headers['cache-control']).toBeUndefined()
    const ok = await app({ maxAge: '60s' })
    expect((await ok.request('/', { method: 'POST' })).headers['cache-control']).toBeUndefined()
  })

  it("keeps the handler's own Cache-Control unless override is set", async () => {
    const kept = await app({ maxAge: '60s' }, 200, 'no-store')
    expect((await kept.request('/')).headers['cache-control']).toBe('no-store')
    const replaced = await app({ maxAge: '60 seconds', override: true }, 200, 'no-store')
    expect((await replaced.request('/')).headers['cache-control']).toBe('max-age=60')
  })

  it('before the cache: hits get the fields, the cache follows its own ttl', async () => {
    const koa = new Koa()
    const cache = cacheMiddleware({ ttl: '1m' })
    let runs = 0
    koa.use(cacheControl({ noCache: true }))
    koa.use(cache)
    koa.use((ctx) => {
      runs++
      ctx.body = 'page'
    })
    const { request } = await serve(koa)
    await request('/')
    await cache.whenIdle()
    const hit = await request('/')
    expect(hit.headers['cache-control']).toBe('no-cache')
    expect(hit.headers['cache-status']).toMatch(/; hit/)
    expect(runs).toBe(1)
  })
})
