/**
 * Issue 14 on Fastify 4 and 5: query parameters the key ignores never reach the handler (the
 * binding's `rewriteUrl`: `request.url`, `request.originalUrl`, `raw.originalUrl` and
 * `request.query` parsed again by Fastify's own router), and forwarded values the key does not
 * hold exactly make the request bypass.
 */
import type { AddressInfo } from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { responseCache, type ResponseCacheOptions } from '../src/index.js'
import { FASTIFY_VERSIONS, listen, request, settle } from './helpers.js'

/** A clock that stands still, so ttl and Age are exact. */
const clock = (): number => 1_900_000_000_000

/** Everything a handler could read of the target, and how many times it ran. */
interface Seen {
  url: string
  originalUrl: string
  rawUrl: string
  query: unknown
  run: number
}

/** A querystring parser of the app's own, so it is clear who parsed `request.query`. */
const customParser = (query: string): Record<string, string> => ({
  parsedBy: 'custom',
  text: query,
})

/** How each major takes a custom querystringParser (Fastify 5 moved it under routerOptions). */
const PARSER_OPTIONS: Record<string, FastifyServerOptions> = {
  'fastify 5': { routerOptions: { querystringParser: customParser } } as FastifyServerOptions,
  'fastify 4': { querystringParser: customParser },
}

describe.each(FASTIFY_VERSIONS)('ignored query parameters on $fastify', ({ fastify, create }) => {
  /** An app whose routes answer what the handler saw, cacheable, behind the plugin. */
  async function reflecting(
    options: FastifyServerOptions = {},
    cacheOptions: ResponseCacheOptions = {}
  ) {
    const cache = responseCache({
      ttl: '1m',
      clock,
      observability: { debug: true },
      ...cacheOptions,
    })
    const app = create(options)
    let runs = 0
    const reflect = async (request: FastifyRequest): Promise<Seen> => ({
      url: request.url,
      originalUrl: request.originalUrl,
      rawUrl: request.raw.url ?? '',
      query: { ...(request.query as object) },
      run: ++runs,
    })
    await app.register(cache.plugin)
    app.get('/r', reflect)
    app.get('/tenant', { constraints: { host: 'shop.test' } }, reflect)
    app.get(
      '/n',
      { schema: { querystring: { type: 'object', properties: { page: { type: 'integer' } } } } },
      async (request) => {
        const page = (request.query as { page?: unknown }).page
        return { ...(await reflect(request)), page: typeof page }
      }
    )
    app.setNotFoundHandler(async (request, reply: FastifyReply) =>
      reply
        .code(404)
        .header('cache-control', 'max-age=60')
        .send(await reflect(request))
    )
    const { url } = await listen(app)
    const get = async (path: string, headers?: Record<string, string>) => {
      const reply = await request(url, path, { headers })
      await settle(cache)
      return {
        status: reply.status,
        cacheStatus: reply.headers['cache-status'],
        seen: JSON.parse(reply.text) as Seen & { page?: string },
      }
    }
    return { app, cache, get }
  }

  it('never reach the handler: request.url, originalUrl, raw.url and query are those of the clean target, and it shares the entry', async () => {
    const { get } = await reflecting()
    const poisoned = await get('/r?a=1&utm_source=%3Cscript%3Eevil&fbclid=x&%75tm_campaign=evil')
    expect(poisoned.cacheStatus).toMatch(/stored/)
    expect(poisoned.seen).toMatchObject({
      url: '/r?a=1',
      originalUrl: '/r?a=1',
      rawUrl: '/r?a=1',
      query: { a: '1' },
    })
    const clean = await get('/r?a=1')
    expect(clean.cacheStatus).toBe('cachewire; hit; ttl=60')
    expect(clean.seen).toEqual(poisoned.seen)
  })

  it("the handler's view equals what Fastify makes of the clean target (`;` members kept; Fastify 4's `;` delimiter)", async () => {
    const cached = await reflecting()
    const plain = create()
    plain.get('/r', async (request) => ({
      url: request.url,
      query: { ...(request.query as object) },
    }))
    await plain.ready()
    afterAll(() => plain.close())
    const cases: Array<[string, string]> = [
      ['/r?utm_medium=mail', '/r'],
      ['/r?b=2&utm_source=x&a=1', '/r?b=2&a=1'],
      ['/r?a=1&utm_content=x;a=2', '/r?a=1&utm_content=x;a=2'],
      ['/r?a=%2B+b&utm_term=q', '/r?a=%2B+b'],
    ]
    // Fastify 4 splits the path from the query at `;` too (useSemicolonDelimiter); to Fastify 5 it is part of the path.
    if (fastify === 'fastify 4') cases.push(['/r;x=1?a=1&gclid=y', '/r;x=1?a=1'])
    for (const [sent, target] of cases) {
      const expected = JSON.parse((await plain.inject(target)).body) as {
        url: string
        query: unknown
      }
      const { seen } = await cached.get(sent)
      expect({ url: seen.url, query: seen.query }, `${fastify} ${sent}`).toEqual(expected)
    }
  })

  it("request.query is parsed again with the app's own querystringParser", async () => {
    const { get } = await reflecting(PARSER_OPTIONS[fastify])
    const poisoned = await get('/r?a=1&utm_source=evil')
    expect(poisoned.seen.query).toEqual({ parsedBy: 'custom', text: 'a=1' })
    expect(poisoned.cacheStatus).toMatch(/stored/)
    const clean = await get('/r?a=1')
    expect([clean.cacheStatus, clean.seen.run]).toEqual(['cachewire; hit; ttl=60', 1])
  })

  it('a querystring schema validates (and coerces) the query the handler gets, after the cache in onRequest', async () => {
    const { get } = await reflecting()
    const poisoned = await get('/n?page=2&utm_source=evil')
    expect(poisoned.seen).toMatchObject({
      query: { page: 2 },
      page: 'number',
      originalUrl: '/n?page=2',
    })
    expect(poisoned.cacheStatus).toMatch(/stored/)
    expect((await get('/n?page=2')).cacheStatus).toBe('cachewire; hit; ttl=60')
  })

  it('a route under the host constraint: found again by its derived host', async () => {
    const { get } = await reflecting()
    const poisoned = await get('/tenant?a=1&utm_source=evil', { host: 'shop.test' })
    expect(poisoned.seen).toMatchObject({ url: '/tenant?a=1', query: { a: '1' } })
    expect(poisoned.cacheStatus).toMatch(/stored/)
  })

  it('a 404 (its router is not public): goes around the cache with the target as sent, never stored', async () => {
    const { get } = await reflecting()
    const missing = await get('/missing?a=1&utm_source=evil')
    expect(missing.status).toBe(404)
    expect(missing.cacheStatus).toBe('cachewire; fwd=bypass; fwd-status=404; detail=ignored-param')
    expect(missing.seen).toMatchObject({
      url: '/missing?a=1&utm_source=evil',
      query: { a: '1', utm_source: 'evil' },
    })
    // Without ignored parameters the 404 uses the cache as any response does.
    expect((await get('/missing?a=1')).cacheStatus).toMatch(/stored/)
  })

  it("Fastify's rewriteUrl option: the client's target (raw.originalUrl) and the routed one both lose them", async () => {
    const { get } = await reflecting({
      rewriteUrl: (req) => (req.url ?? '/').replace(/^\/old/, '/r'),
    })
    const poisoned = await get('/old?a=1&utm_source=evil')
    expect(poisoned.seen).toMatchObject({
      url: '/r?a=1',
      originalUrl: '/old?a=1',
      rawUrl: '/r?a=1',
      query: { a: '1' },
    })
    expect(poisoned.cacheStatus).toMatch(/stored/)
  })
})

describe.each(FASTIFY_VERSIONS)(
  'route hooks and ignored query parameters on $fastify',
  ({ create }) => {
    async function routeApp(hook: 'onRequest' | 'preHandler', schema: 'integer' | 'string') {
      const cache = responseCache({ ttl: '1m', clock, observability: { debug: true } })
      const app = create()
      let runs = 0
      app.get(
        '/n',
        {
          schema: { querystring: { type: 'object', properties: { page: { type: schema } } } },
          [hook]: cache.route(),
        },
        async (request) => ({
          originalUrl: request.originalUrl,
          query: { ...(request.query as object) },
          run: ++runs,
        })
      )
      const { url } = await listen(app)
      return async (path: string) => {
        const reply = await request(url, path)
        await settle(cache)
        return {
          cacheStatus: reply.headers['cache-status'],
          seen: JSON.parse(reply.text) as { originalUrl: string; query: unknown },
        }
      }
    }

    it('cache.route() in onRequest: Fastify validates the clean query afterwards', async () => {
      const get = await routeApp('onRequest', 'integer')
      const poisoned = await get('/n?page=2&utm_source=evil')
      expect(poisoned.seen).toEqual({ originalUrl: '/n?page=2', query: { page: 2 }, run: 1 })
      expect(poisoned.cacheStatus).toMatch(/stored/)
    })

    it('cache.route() in preHandler, the query already coerced: goes around the cache rather than undo the coercion', async () => {
      const get = await routeApp('preHandler', 'integer')
      const sent = await get('/n?page=2&utm_source=evil')
      expect(sent.cacheStatus).toBe('cachewire; fwd=bypass; fwd-status=200; detail=ignored-param')
      expect(sent.seen).toMatchObject({
        originalUrl: '/n?page=2&utm_source=evil',
        query: { page: 2, utm_source: 'evil' },
      })
    })

    it('cache.route() in preHandler, validation changed nothing: the clean query, stored', async () => {
      const get = await routeApp('preHandler', 'string')
      const poisoned = await get('/n?page=2&utm_source=evil')
      expect(poisoned.seen).toEqual({ originalUrl: '/n?page=2', query: { page: '2' }, run: 1 })
      expect(poisoned.cacheStatus).toMatch(/stored/)
    })
  }
)

describe.each(FASTIFY_VERSIONS)(
  'the front door and ignored query parameters on $fastify',
  ({ fastify, create }) => {
    it('the target is clean before Fastify routes: the custom parser sees it, the hit is the front door’s', async () => {
      const cache = responseCache({ ttl: '1m', clock })
      const app: FastifyInstance = create({
        ...PARSER_OPTIONS[fastify],
        serverFactory: cache.serverFactory(),
      })
      let hooks = 0
      app.addHook('onRequest', async () => void hooks++)
      await app.register(cache.plugin)
      app.get('/r', async (request) => ({ originalUrl: request.originalUrl, query: request.query }))
      await app.listen({ port: 0, host: '127.0.0.1' })
      afterAll(() => app.close())
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
      const poisoned = await request(url, '/r?a=1&utm_source=evil')
      await settle(cache)
      expect(JSON.parse(poisoned.text)).toEqual({
        originalUrl: '/r?a=1',
        query: { parsedBy: 'custom', text: 'a=1' },
      })
      const hit = await request(url, '/r?utm_source=other&a=1')
      expect([hit.text, hit.headers['cache-status'], hooks]).toEqual([
        poisoned.text,
        'cachewire; hit; ttl=60',
        1,
      ])
    })
  }
)

describe.each(FASTIFY_VERSIONS)('trustProxy and X-Forwarded-Host on $fastify', ({ create }) => {
  it('a list (Fastify reads its last member) bypasses as an unkeyed header; one value is keyed through the host', async () => {
    const cache = responseCache({
      ttl: '1m',
      clock,
      keys: { hosts: ['shop.test', 'cdn.test'] },
      observability: { debug: true },
    })
    const app = create({ trustProxy: true })
    let runs = 0
    await app.register(cache.plugin)
    app.get(
      '/h',
      async (request) => `host ${(request as { host?: string }).host ?? request.hostname} ${++runs}`
    )
    const { url } = await listen(app)
    const get = async (headers: Record<string, string>) => {
      const reply = await request(url, '/h', { headers })
      await settle(cache)
      return [reply.text, reply.headers['cache-status']]
    }
    expect(await get({ host: 'shop.test', 'x-forwarded-host': 'shop.test, evil.test' })).toEqual([
      'host evil.test 1',
      'cachewire; fwd=bypass; fwd-status=200; detail=unkeyed-header',
    ])
    expect(await get({ host: 'shop.test', 'x-forwarded-host': 'shop.test, cdn.test' })).toEqual([
      'host cdn.test 2',
      'cachewire; fwd=bypass; fwd-status=200; detail=unkeyed-header',
    ])
    expect(await get({ host: 'shop.test', 'x-forwarded-host': 'cdn.test' })).toEqual([
      'host cdn.test 3',
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60',
    ])
    expect(await get({ host: 'shop.test' })).toEqual([
      'host shop.test 4',
      'cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=60',
    ])
    expect(await get({ host: 'shop.test', 'x-forwarded-host': 'shop.test' })).toEqual([
      'host shop.test 4',
      'cachewire; hit; ttl=60',
    ])
    // The list never reached an entry.
    expect(await get({ host: 'cdn.test' })).toEqual(['host cdn.test 3', 'cachewire; hit; ttl=60'])
  })
})
