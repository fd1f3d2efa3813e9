import http from 'node:http'
import { describe, expect, it } from 'vitest'
import { cacheMiddleware, MemoryStore } from '../src/index.js'
import { KOAS, serve } from './helpers.js'

type KoaApp = {
  response: object
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => unknown
}

/**
 * Serves `app` through a listener that can set headers before Koa runs. Records, for each finished
 * response, the header names `res` still reports (what a logger watching `finish` reads), and
 * counts the calls of Koa's `ctx.body` setter, which a hit written straight to the socket skips.
 */
async function serveRecording(app: KoaApp, before?: (res: http.ServerResponse) => void) {
  const callback = app.callback()
  const held: string[][] = []
  const bodySets = { count: 0 }
  const body = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(app.response), 'body')
  Object.defineProperty(app.response, 'body', {
    configurable: true,
    get: body?.get,
    set(value: unknown) {
      bodySets.count++
      body?.set?.call(this, value)
    },
  })
  const listener: http.RequestListener = (req, res) => {
    before?.(res)
    res.on('finish', () => held.push(res.getHeaderNames()))
    void callback(req, res)
  }
  const served = await serve({ callback: () => listener })
  return { held, bodySets, get: served.request }
}

function handler(ctx: { set(name: string, value: string): void; body: unknown; path: string }) {
  ctx.set('etag', '"v1"')
  ctx.set('x-handler', 'yes')
  ctx.body = { path: ctx.path }
}

/** What a client can compare between two answers: everything but the clock's fields. */
function comparable(headers: http.IncomingHttpHeaders) {
  const { date: _date, age: _age, ...rest } = headers
  return rest
}

describe.each(KOAS)('the cache as the first middleware of a $name app', ({ Koa }) => {
  it('sends a hit straight to the socket, with the same status, headers and body Koa sends', async () => {
    const first = new Koa()
    first.use(cacheMiddleware({ ttl: '1m', storage: { store: new MemoryStore() } }))
    first.use(handler)
    const behind = new Koa()
    behind.use(async (_ctx, next) => {
      await next()
    })
    behind.use(cacheMiddleware({ ttl: '1m', storage: { store: new MemoryStore() } }))
    behind.use(handler)
    const straight = await serveRecording(first)
    const throughKoa = await serveRecording(behind)

    for (const served of [straight, throughKoa]) expect((await served.get('/a')).status).toBe(200)
    const setsBefore = [straight.bodySets.count, throughKoa.bodySets.count]
    const hit = await straight.get('/a')
    const koaHit = await throughKoa.get('/a')

    expect(hit.headers['cache-status']).toMatch(/; hit/)
    expect(hit.status).toBe(koaHit.status)
    expect(hit.text).toBe(koaHit.text)
    expect(JSON.parse(hit.text)).toEqual({ path: '/a' })
    expect(comparable(hit.headers)).toEqual(comparable(koaHit.headers))
    expect(straight.bodySets.count - (setsBefore[0] as number)).toBe(0)
    expect(throughKoa.bodySets.count - (setsBefore[1] as number)).toBeGreaterThan(0)
    // Either way, what watches the response finish reads the lines the client got.
    expect(straight.held.at(-1)).toContain('cache-status')
    expect(straight.held.at(-1)?.sort()).toEqual(throughKoa.held.at(-1)?.sort())
  })

  it('answers HEAD with the stored Content-Length and no body, and a matching validator with 304', async () => {
    const app = new Koa()
    app.use(cacheMiddleware({ ttl: '1m', storage: { store: new MemoryStore() } }))
    app.use(handler)
    const served = await serveRecording(app)
    const stored = await served.get('/b')
    const setsOnTheMiss = served.bodySets.count

    const head = await served.get('/b', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
    expect(head.headers['content-length']).toBe(stored.headers['content-length'])
    expect(head.headers['cache-status']).toMatch(/; hit/)

    const notModified = await served.get('/b', { headers: { 'if-none-match': '"v1"' } })
    expect(notModified.status).toBe(304)
    expect(notModified.body.length).toBe(0)
    expect(notModified.headers.etag).toBe('"v1"')
    expect(served.bodySets.count).toBe(setsOnTheMiss)
  })

  it('keeps headers set on the response before Koa ran', async () => {
    const app = new Koa()
    app.use(cacheMiddleware({ ttl: '1m', storage: { store: new MemoryStore() } }))
    app.use(handler)
    const served = await serveRecording(app, (res) => res.setHeader('x-edge', 'e1'))
    await served.get('/c')

    const hit = await served.get('/c')
    expect(hit.headers['cache-status']).toMatch(/; hit/)
    expect(hit.headers['x-edge']).toBe('e1')
    expect(hit.headers['x-handler']).toBe('yes')
    expect(JSON.parse(hit.text)).toEqual({ path: '/c' })
  })

  it('with middleware before it, a hit goes through Koa, so their code after `await next()` applies', async () => {
    const app = new Koa()
    app.use(async (ctx, next) => {
      await next()
      ctx.set('x-after', String(ctx.status))
    })
    app.use(cacheMiddleware({ ttl: '1m', storage: { store: new MemoryStore() } }))
    app.use(handler)
    const served = await serveRecording(app)
    await served.get('/d')

    const hit = await served.get('/d')
    expect(hit.headers['cache-status']).toMatch(/; hit/)
    expect(hit.headers['x-after']).toBe('200')
  })
})
