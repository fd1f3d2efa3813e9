import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyRequest } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { InvalidOptionError, responseCache, type ResponseCache } from '../src/index.js'
import { FASTIFY_VERSIONS, request, settle } from './helpers.js'

/** A clock that stands still, so ttl and Age are exact. */
const clock = (): number => 1_900_000_000_000

describe.each(FASTIFY_VERSIONS)('front door on $fastify', ({ create }) => {
  async function get(
    url: string,
    path: string,
    cache: { whenIdle(): Promise<void> },
    headers?: Record<string, string>
  ) {
    const reply = await request(url, path, { headers })
    await settle(cache)
    return reply
  }

  it('serverFactory: app.listen serves through the front door; fresh hits are answered before any hook runs', async () => {
    const cache = responseCache({ ttl: '1m', clock })
    const app = create({ serverFactory: cache.serverFactory() })
    let hooks = 0
    let responses = 0
    app.addHook('onRequest', async () => void hooks++)
    app.addHook('onResponse', async () => void responses++)
    await app.register(cache.plugin)
    app.get('/neutral', { config: { cache: { ttl: '5m' } } }, async () => 'neutral')
    app.get('/own-key', { config: { cache: { keys: { key: () => 'k' } } } }, async () => 'own')
    await app.listen({ port: 0, host: '127.0.0.1' })
    afterAll(() => app.close())
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    await get(url, '/neutral', cache)
    await get(url, '/own-key', cache)
    expect(hooks).toBe(2)
    const neutral = await get(url, '/neutral', cache)
    expect(neutral.headers['cache-status']).toBe('cachewire; hit; ttl=300')
    expect(neutral.text).toBe('neutral')
    expect([hooks, responses]).toEqual([2, 2])
    // A route with a key of its own is answered by the plugin, behind the front door.
    const own = await get(url, '/own-key', cache)
    expect(own.headers['cache-status']).toMatch(/; hit/)
    expect(hooks).toBe(3)
  })

  it('frontDoor(app): a node:http listener in front of app.routing, booting the app on its first request', async () => {
    const cache = responseCache({ ttl: '1m', clock })
    const app = create()
    let hooks = 0
    app.addHook('onRequest', async () => void hooks++)
    await app.register(cache.plugin)
    app.get('/a', async () => 'a')
    const server = http.createServer(cache.frontDoor(app))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    afterAll(
      () =>
        new Promise<void>(
          (resolve) => (server.closeAllConnections(), server.close(() => resolve()))
        )
    )
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    expect((await get(url, '/a', cache)).headers['cache-status']).toMatch(/stored/)
    const hit = await get(url, '/a', cache)
    expect([hit.text, hit.headers['cache-status'], hooks]).toEqual([
      'a',
      'cachewire; hit; ttl=60',
      1,
    ])
  })

  it('a request with X-Forwarded-Host goes to Fastify, whose trustProxy decides what it means', async () => {
    const cache = responseCache({ ttl: '1m', clock, keys: { hosts: ['shop.test', 'cdn.test'] } })
    const app = create({ serverFactory: cache.serverFactory(), trustProxy: true })
    let runs = 0
    await app.register(cache.plugin)
    app.get(
      '/h',
      async (request: FastifyRequest) =>
        `host ${(request as { host?: string }).host ?? request.hostname} ${++runs}`
    )
    await app.listen({ port: 0, host: '127.0.0.1' })
    afterAll(() => app.close())
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    await get(url, '/h', cache, { host: 'shop.test' })
    // Fastify applies the forwarded host (trustProxy): the plugin answers it from cdn.test's entry, not shop.test's.
    const forwarded = await get(url, '/h', cache, {
      host: 'shop.test',
      'x-forwarded-host': 'cdn.test',
    })
    expect(forwarded.text).toBe('host cdn.test 2')
    const direct = await get(url, '/h', cache, { host: 'shop.test' })
    expect([direct.text, direct.headers['cache-status']]).toEqual([
      'host shop.test 1',
      'cachewire; hit; ttl=60',
    ])
  })

  it('is refused when the app key needs the Fastify request, and HTTP/2 is refused by the factory', () => {
    for (const [cache, option] of [
      [responseCache({ keys: { key: (request) => String(request.headers['x-a']) } }), 'keys.key'],
      [
        responseCache({
          safety: { scope: 'private', privateKey: (request) => String(request.headers['x-user']) },
        }),
        'safety.privateKey',
      ],
    ] as Array<[ResponseCache, string]>) {
      for (const build of [() => cache.serverFactory(), () => cache.frontDoor(create())]) {
        try {
          build()
          expect.unreachable()
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidOptionError)
          expect((error as InvalidOptionError).option).toBe(option)
        }
      }
    }
    expect(() =>
      responseCache().serverFactory({ include: [(request: FastifyRequest) => request.url === '/'] })
    ).toThrow(InvalidOptionError)
    expect(() => responseCache().frontDoor({} as never)).toThrow(/a Fastify instance/)
    expect(() =>
      create({ serverFactory: responseCache().serverFactory(), http2: true } as never)
    ).toThrow(/options.http2 to be off for the cachewire front door/)
  })
})
