import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { Middleware } from 'koa'
import { cacheMiddleware, conditional, InvalidOptionError } from '../src/index.js'
import { KOAS, serve } from './helpers.js'

describe('conditional(options)', () => {
  it('validates its options and is named', () => {
    expect(() => conditional({ etag: 'medium' as never })).toThrow(InvalidOptionError)
    expect(() => conditional({ maxBodyBytes: -1 })).toThrow(InvalidOptionError)
    expect(conditional().name).toBe('conditional')
  })
})

describe.each(KOAS)('conditional on $name', ({ Koa }) => {
  async function app(handler: Middleware, options?: Parameters<typeof conditional>[0]) {
    const koa = new Koa()
    koa.use(conditional(options))
    koa.use(handler)
    return serve(koa)
  }

  it('adds a strong ETag and answers a matching If-None-Match with a 304', async () => {
    const { request } = await app((ctx) => {
      ctx.set('cache-control', 'max-age=60')
      ctx.body = { a: 1 }
    })
    const full = await request('/')
    const etag = full.headers.etag as string
    expect(etag).toMatch(/^"[^"]+"$/)
    const notModified = await request('/', { headers: { 'if-none-match': `W/${etag}` } })
    expect(notModified.status).toBe(304)
    expect(notModified.body.length).toBe(0)
    expect(notModified.headers.etag).toBe(etag)
    expect(notModified.headers['cache-control']).toBe('max-age=60')
    expect(notModified.headers['content-type']).toBeUndefined()
    const head = await request('/', { method: 'HEAD' })
    expect(head.headers.etag).toBe(etag)
  })

  it('hashes a stream body within maxBodyBytes and streams a larger one through', async () => {
    const small = await app(
      (ctx) => void (ctx.body = Readable.from([Buffer.from('ab'), Buffer.from('cd')]))
    )
    const hashed = await small.request('/')
    expect(hashed.text).toBe('abcd')
    expect(hashed.headers.etag).toBeDefined()
    expect(
      (await small.request('/', { headers: { 'if-none-match': hashed.headers.etag as string } }))
        .status
    ).toBe(304)

    const large = await app(
      (ctx) => void (ctx.body = Readable.from([Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b')])),
      { maxBodyBytes: 1000 }
    )
    const streamed = await large.request('/')
    expect(streamed.body.length).toBe(1200)
    expect(streamed.headers.etag).toBeUndefined()
  })

  it('answers If-Modified-Since from Last-Modified, and never turns an error into a 304', async () => {
    const { request } = await app((ctx) => {
      ctx.set('last-modified', 'Tue, 01 Jan 2030 00:00:00 GMT')
      ctx.status = ctx.path === '/error' ? 500 : 200
      ctx.body = 'dated'
    })
    expect(
      (await request('/', { headers: { 'if-modified-since': 'Tue, 01 Jan 2030 00:00:00 GMT' } }))
        .status
    ).toBe(304)
    expect(
      (await request('/', { headers: { 'if-modified-since': 'Mon, 31 Dec 2029 00:00:00 GMT' } }))
        .status
    ).toBe(200)
    expect((await request('/error', { headers: { 'if-none-match': '*' } })).status).toBe(500)
  })

  it('before the cache: a miss and its hits carry the same ETag', async () => {
    const koa = new Koa()
    const cache = cacheMiddleware({ ttl: '1m' })
    koa.use(conditional())
    koa.use(cache)
    koa.use((ctx) => void (ctx.body = 'same bytes'))
    const { request } = await serve(koa)
    const miss = await request('/')
    await cache.whenIdle()
    const hit = await request('/')
    expect(hit.headers['cache-status']).toMatch(/; hit/)
    expect(hit.headers.etag).toBe(miss.headers.etag)
    // A miss for another URL with the same bytes: the cache strips the field for its handler,
    // conditional() (outside it) sees the client's own and answers.
    const conditionalMiss = await request('/other', {
      headers: { 'if-none-match': miss.headers.etag as string },
    })
    expect(conditionalMiss.status).toBe(304)
    expect(
      (await request('/', { headers: { 'if-none-match': miss.headers.etag as string } })).status
    ).toBe(304)
  })
})

describe.each(KOAS)('conditional and the handlers behind it on $name', ({ Koa }) => {
  it('hides the client conditional from them, so the decision is made once', async () => {
    const koa = new Koa()
    const seen: Array<string | undefined> = []
    koa.use(conditional())
    koa.use((ctx) => {
      seen.push(ctx.get('if-none-match') || undefined)
      ctx.body = 'abc'
    })
    const { request } = await serve(koa)
    const etag = (await request('/')).headers.etag as string
    expect((await request('/', { headers: { 'if-none-match': etag } })).status).toBe(304)
    expect(seen).toEqual([undefined, undefined])
  })
})
