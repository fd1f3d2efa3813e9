/**
 * The purge router on Express and on Koa, over real HTTP: auth, purge by URL, tag and namespace,
 * dry runs, the purge log and the purge counters. One suite, run once per framework.
 */
import express from 'express'
import Koa from 'koa'
import { describe, expect, it } from 'vitest'
import { Cache, InvalidOptionError, MemoryStore } from '@cachewire/http'
import {
  purgeRouter as expressPurgeRouter,
  responseCache as expressCache,
} from '@cachewire/express'
import { purgeRouter as koaPurgeRouter, responseCache as koaCache } from '@cachewire/koa'
import type { PurgeLogEntry } from '@cachewire/http/operations'
import Fastify from 'fastify'
import { responseCache as fastifyCache } from '@cachewire/fastify'
import { FlakyStore } from '../helpers/flaky-store.js'
import { msUntil } from '../helpers/measure.js'
import { listen, request, type TestResponse } from '../helpers/servers.js'

const TOKEN = 'purge-token-0123456789abcdef'

interface Built {
  url: string
  cache: Cache
  /** Handler runs per path: a purged entry shows up as one more run. */
  runs: Map<string, number>
  log: PurgeLogEntry[]
  stats(): ReturnType<ReturnType<typeof expressCache>['engine']['observer']['stats']>
  whenIdle(): Promise<void>
}

interface Framework {
  name: string
  /** Builds the router alone, for build-time validation. */
  router(options: Record<string, unknown>): unknown
  build(): Promise<Built>
}

function handlerFor(runs: Map<string, number>, path: string): { body: string; tags: string } {
  runs.set(path, (runs.get(path) ?? 0) + 1)
  const tags = path.startsWith('/products') ? 'products catalog' : 'pages'
  return { body: `${path} run ${runs.get(path)}`, tags }
}

const frameworks: Framework[] = [
  {
    name: 'Express',
    router: (options) => expressPurgeRouter(options as never),
    async build() {
      const cache = new Cache({ store: new MemoryStore() })
      const responses = expressCache({ ttl: '1m', storage: { cache } })
      const runs = new Map<string, number>()
      const log: PurgeLogEntry[] = []
      const app = express()
      app.use('/_cache', responses.purgeRouter({ token: TOKEN, log: (entry) => log.push(entry) }))
      app.use(responses.middleware())
      app.get(/.*/, (req, res) => {
        const { body, tags } = handlerFor(runs, req.path)
        res.set('surrogate-key', tags).type('text/plain').send(body)
      })
      const { url } = await listen(app)
      return {
        url,
        cache,
        runs,
        log,
        stats: () => responses.engine.observer.stats(),
        whenIdle: () => responses.whenIdle(),
      }
    },
  },
  {
    name: 'Koa',
    router: (options) => koaPurgeRouter(options as never),
    async build() {
      const cache = new Cache({ store: new MemoryStore() })
      const responses = koaCache({ ttl: '1m', storage: { cache } })
      const runs = new Map<string, number>()
      const log: PurgeLogEntry[] = []
      const app = new Koa()
      app.use(
        responses.purgeRouter({ token: TOKEN, prefix: '/_cache', log: (entry) => log.push(entry) })
      )
      app.use(responses.middleware())
      app.use((ctx) => {
        const { body, tags } = handlerFor(runs, ctx.path)
        ctx.set('surrogate-key', tags)
        ctx.type = 'text/plain'
        ctx.body = body
      })
      const { url } = await listen(app)
      return {
        url,
        cache,
        runs,
        log,
        stats: () => responses.engine.observer.stats(),
        whenIdle: () => responses.whenIdle(),
      }
    },
  },
]

async function purge(
  url: string,
  path: string,
  body: unknown,
  token: string | undefined = TOKEN
): Promise<TestResponse & { json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`
  const response = await request(`${url}/_cache${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  })
  return { ...response, json: JSON.parse(response.text) as Record<string, unknown> }
}

/** Warms `paths` (a miss then a stored entry each) and checks the next request is a hit. */
async function warm(built: Built, paths: string[]): Promise<void> {
  for (const path of paths) await request(`${built.url}${path}`)
  await built.whenIdle()
  for (const path of paths)
    expect((await request(`${built.url}${path}`)).text).toBe(`${path} run 1`)
}

/** True when the next request for `path` ran the handler again (the entry was gone). */
async function wasPurged(built: Built, path: string): Promise<boolean> {
  const before = built.runs.get(path) ?? 0
  await request(`${built.url}${path}`)
  await built.whenIdle()
  return (built.runs.get(path) ?? 0) > before
}

for (const framework of frameworks) {
  describe(`${framework.name} purgeRouter`, () => {
    describe('when built', () => {
      it('refuses a missing token with an InvalidOptionError naming options.token', () => {
        const engine = expressCache().engine
        const attempt = (): unknown => framework.router({ engine })
        expect(attempt).toThrow(InvalidOptionError)
        expect(attempt).toThrow(/options\.token/)
      })

      it('refuses a token shorter than 16 characters', () => {
        const engine = expressCache().engine
        try {
          framework.router({ engine, token: 'short' })
          expect.unreachable('a short token was accepted')
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidOptionError)
          expect((error as InvalidOptionError).option).toBe('token')
          expect((error as Error).message).toMatch(/at least 16 characters, got "5 characters"/)
          // The token itself never appears in the message.
          expect((error as Error).message).not.toContain('short')
        }
      })

      it('refuses a missing engine', () => {
        expect(() => framework.router({ token: TOKEN })).toThrow(/options\.engine/)
      })
    })

    describe('without the right bearer token', () => {
      it('answers 401 with WWW-Authenticate and purges nothing', async () => {
        const built = await framework.build()
        await warm(built, ['/products/1'])
        const variants: Array<Record<string, string>> = [
          {},
          { authorization: `Bearer ${TOKEN.slice(0, -1)}x` },
          { authorization: `Bearer ${TOKEN}extra` },
          { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
          { authorization: TOKEN },
        ]
        for (const headers of variants) {
          const response = await request(`${built.url}/_cache/purge/tags`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify({ tags: ['products'] }),
          })
          expect(response.status, JSON.stringify(headers)).toBe(401)
          expect(response.headers['www-authenticate']).toBe('Bearer realm="cachewire"')
          expect(response.headers['cache-control']).toBe('no-store')
        }
        const stats = await request(`${built.url}/_cache/stats`)
        expect(stats.status).toBe(401)
        expect(await wasPurged(built, '/products/1')).toBe(false)
        expect(built.log).toEqual([])
        expect(built.stats().purges).toEqual({})
      })
    })

    describe('with the token', () => {
      it('purges one URL (every variant of it) and nothing else', async () => {
        const built = await framework.build()
        await warm(built, ['/products/1', '/products/2'])
        const response = await purge(built.url, '/purge/url', {
          url: '/products/1',
          host: new URL(built.url).host,
        })
        expect(response.status).toBe(200)
        expect(response.json).toEqual({
          ok: true,
          kind: 'url',
          targets: ['/products/1'],
          dryRun: false,
          status: 'applied',
          count: 1,
        })
        expect(await wasPurged(built, '/products/1')).toBe(true)
        expect(await wasPurged(built, '/products/2')).toBe(false)
      })

      it('purges by tag, taken from the Surrogate-Key the handler set', async () => {
        const built = await framework.build()
        await warm(built, ['/products/1', '/products/2', '/about'])
        const response = await purge(built.url, '/purge/tags', { tags: ['catalog'] })
        expect(response.json).toEqual({
          ok: true,
          kind: 'tags',
          targets: ['catalog'],
          dryRun: false,
          status: 'applied',
          count: 2,
        })
        expect(await wasPurged(built, '/products/1')).toBe(true)
        expect(await wasPurged(built, '/products/2')).toBe(true)
        expect(await wasPurged(built, '/about')).toBe(false)
      })

      it('purges a namespace of the engine cache', async () => {
        const built = await framework.build()
        const users = built.cache.namespace('users')
        const sessions = built.cache.namespace('sessions')
        await users.set('7', { name: 'Ada' })
        await sessions.set('s1', 'open')
        const response = await purge(built.url, '/purge/namespace', { namespace: 'users' })
        expect(response.json).toEqual({
          ok: true,
          kind: 'namespace',
          targets: ['users'],
          dryRun: false,
          status: 'applied',
          count: null,
        })
        expect(await users.get('7')).toBeUndefined()
        expect(await sessions.get('s1')).toBe('open')
      })

      it('on a dry run, reports what would go and removes nothing', async () => {
        const built = await framework.build()
        await warm(built, ['/products/1', '/products/2', '/about'])
        await built.cache.namespace('users').set('7', 'Ada')
        const byTag = await purge(built.url, '/purge/tags?dryRun=1', { tags: ['products'] })
        expect(byTag.json).toEqual({
          ok: true,
          kind: 'tags',
          targets: ['products'],
          dryRun: true,
          status: 'applied',
          count: 2,
        })
        const byUrl = await purge(built.url, '/purge/url?dryRun=1', { url: `${built.url}/about` })
        expect(byUrl.json).toEqual({
          ok: true,
          kind: 'url',
          targets: [`${built.url}/about`],
          dryRun: true,
          status: 'applied',
          count: 1,
        })
        const byNamespace = await purge(built.url, '/purge/namespace?dryRun=true', {
          namespace: 'users',
        })
        expect(byNamespace.json).toMatchObject({ ok: true, dryRun: true })
        for (const path of ['/products/1', '/products/2', '/about'])
          expect(await wasPurged(built, path)).toBe(false)
        expect(await built.cache.namespace('users').get('7')).toBe('Ada')
        // Logged (a dry run is still an action someone took), but not counted as a purge.
        expect(built.log.map((entry) => [entry.kind, entry.dryRun])).toEqual([
          ['tags', true],
          ['url', true],
          ['namespace', true],
        ])
        expect(built.stats().purges).toEqual({})
      })

      it('logs every purge with the caller and counts it by kind', async () => {
        const built = await framework.build()
        await warm(built, ['/products/1'])
        await purge(built.url, '/purge/tags', { tags: ['products'] })
        await purge(built.url, '/purge/url', { url: `${built.url}/about` })
        await purge(built.url, '/purge/tags', { tags: ['pages', 'other'] })
        await purge(built.url, '/purge/namespace', { namespace: 'users' })
        expect(built.log).toHaveLength(4)
        for (const entry of built.log) {
          expect(entry.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$/)
          expect(Number.isNaN(Date.parse(entry.at))).toBe(false)
          expect(entry.dryRun).toBe(false)
        }
        expect(built.log[0]).toMatchObject({ kind: 'tags', targets: ['products'], count: 1 })
        expect(built.log[2]).toMatchObject({ kind: 'tags', targets: ['pages', 'other'] })
        expect(built.stats().purges).toEqual({ tags: 2, url: 1, namespace: 1 })
        // The counters are also what /stats answers.
        const stats = await request(`${built.url}/_cache/stats`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })
        expect(stats.status).toBe(200)
        expect((JSON.parse(stats.text) as { purges: unknown }).purges).toEqual({
          tags: 2,
          url: 1,
          namespace: 1,
        })
      })

      it('answers 400 for a missing target, 404 for an unknown route and 405 for GET on a purge route', async () => {
        const built = await framework.build()
        expect((await purge(built.url, '/purge/tags', {})).status).toBe(400)
        expect((await purge(built.url, '/purge/tags', { tags: [1] })).status).toBe(400)
        expect((await purge(built.url, '/purge/url', { url: 'http://[bad' })).status).toBe(400)
        expect((await purge(built.url, '/purge/everything', {})).status).toBe(404)
        const get = await request(`${built.url}/_cache/purge/tags?tag=x`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })
        expect(get.status).toBe(405)
        expect(get.headers['allow']).toBe('POST')
        expect(built.log).toEqual([])
      })

      it('never lets the cache store its answers', async () => {
        const built = await framework.build()
        const first = await request(`${built.url}/_cache/stats`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })
        const second = await request(`${built.url}/_cache/stats`)
        expect(first.status).toBe(200)
        expect(second.status).toBe(401)
      })
    })
  })
}

/** A store that cannot be reached: every router answers 503 for the purge, and says what became of it. */
describe('a purge the store cannot apply is answered 503 on every framework', () => {
  const purgeBody = JSON.stringify({ tags: ['products'] })
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
  const builders: Array<[string, (cache: Cache) => Promise<string>]> = [
    [
      'Express',
      async (cache) => {
        const app = express()
        app.use(
          '/_cache',
          expressCache({ storage: { cache } }).purgeRouter({ token: TOKEN, log: () => {} })
        )
        return (await listen(app)).url
      },
    ],
    [
      'Koa',
      async (cache) => {
        const app = new Koa()
        app.use(
          koaCache({ storage: { cache } }).purgeRouter({
            token: TOKEN,
            log: () => {},
            prefix: '/_cache',
          })
        )
        return (await listen(app)).url
      },
    ],
    [
      'Fastify',
      async (cache) => {
        const app = Fastify()
        await app.register(
          fastifyCache({ storage: { cache } }).purgeRouter({ token: TOKEN, log: () => {} }),
          { prefix: '/_cache' }
        )
        await app.listen({ port: 0, host: '127.0.0.1' })
        const address = app.server.address() as { port: number }
        return `http://127.0.0.1:${address.port}`
      },
    ],
  ]
  for (const [name, build] of builders) {
    it(`${name}: queued while the store is down (503), applied once it is back (200)`, async () => {
      const store = new FlakyStore(new MemoryStore())
      const cache = new Cache({ store })
      const url = await build(cache)
      store.failing = true
      const down = await request(`${url}/_cache/purge/tags`, {
        method: 'POST',
        headers,
        body: purgeBody,
      })
      expect(down.status).toBe(503)
      expect(down.headers['retry-after']).toBe('1')
      expect(JSON.parse(down.text)).toMatchObject({ ok: false, kind: 'tags', status: 'queued' })
      store.failing = false
      // The queued purge is retried by the cache; the same purge asked again joins it until then.
      let up = down
      await msUntil(
        async () =>
          (up = await request(`${url}/_cache/purge/tags`, {
            method: 'POST',
            headers,
            body: purgeBody,
          })).status === 200,
        { timeoutMs: 10_000, intervalMs: 50 }
      )
      expect(JSON.parse(up.text)).toMatchObject({ ok: true, status: 'applied' })
      await cache.close()
    })
  }
})
