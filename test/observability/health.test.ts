/**
 * Health for Kubernetes probes, over real servers and real redis-servers: liveness never asks
 * Redis; readiness reports the cache's health and stays 200 while the cache is degraded (it fails
 * open) unless told otherwise; a wrong password, no password and a stopped Redis each read
 * clearly. Express, Koa and Fastify.
 */
import Router from '@koa/router'
import express from 'express'
import Koa from 'koa'
import { describe, expect, it } from 'vitest'
import { Cache } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { liveness, readiness, responseCache } from '@cachewire/express'
import * as koaCache from '@cachewire/koa'
import * as fastifyCache from '@cachewire/fastify'
import Fastify from 'fastify'
import { startRedisProcess } from '../helpers/redis-process.js'
import { listen, request } from '../helpers/servers.js'
import {
  createClusterClient,
  deleteKeysWithPrefix,
  describeCluster,
  uniquePrefix,
} from '../setup/redis.js'

interface Readiness {
  status: 'ready' | 'not-ready'
  cache: {
    status: 'ok' | 'degraded'
    problems: string[]
    store: { name: string; ping: string; problem?: string; error?: string; latencyMs?: number }
    breaker: string
  }
}

async function probe(
  url: string
): Promise<{ status: number; body: Readiness; cacheControl: unknown }> {
  const response = await request(url)
  return {
    status: response.status,
    body: JSON.parse(response.body.toString()) as Readiness,
    cacheControl: response.headers['cache-control'],
  }
}

function expressApp(
  cache: ReturnType<typeof responseCache>,
  failWhenDegraded = false
): express.Express {
  const app = express()
  app.use(cache.middleware())
  app.get('/livez', cache.liveness())
  app.get('/readyz', cache.readiness({ timeout: '2s', failWhenDegraded }))
  app.get('/page', (_req, res) => res.send('page'))
  return app
}

describe('readiness and liveness (Express)', () => {
  it('are 200 with the store answering its ping, and never cached', async () => {
    const redis = await startRedisProcess()
    const store = new RedisStore({ url: redis.url })
    const cache = responseCache({ ttl: '1m', storage: { store } })
    const { url } = await listen(expressApp(cache))
    const ready = await probe(`${url}/readyz`)
    expect(ready.status).toBe(200)
    expect(ready.cacheControl).toBe('no-store')
    expect(ready.body).toMatchObject({
      status: 'ready',
      cache: {
        status: 'ok',
        problems: [],
        store: { name: 'redis', ping: 'ok' },
        breaker: 'closed',
      },
    })
    expect(ready.body.cache.store.latencyMs).toBeGreaterThanOrEqual(0)
    const live = await request(`${url}/livez`)
    expect([live.status, live.body.toString()]).toEqual([200, '{"status":"ok"}'])
    // Probes go through the cache middleware and are not stored.
    expect((await request(`${url}/readyz`)).headers['cache-status']).not.toMatch(/hit/)
    await cache.close()
  })

  it("say a wrong Redis password in Redis' words; ready by default (the cache fails open), 503 when told to fail", async () => {
    const redis = await startRedisProcess({ password: 'right-password' })
    const store = new RedisStore({ url: `redis://:wrong-password@127.0.0.1:${redis.port}` })
    const cache = responseCache({ ttl: '1m', storage: { store } })
    const { url } = await listen(expressApp(cache))
    const ready = await probe(`${url}/readyz`)
    console.info(`readiness with a wrong Redis password:\n${JSON.stringify(ready.body, null, 2)}`)
    expect(ready.status).toBe(200)
    expect(ready.body.status).toBe('ready')
    expect(ready.body.cache.status).toBe('degraded')
    expect(ready.body.cache.store).toMatchObject({ ping: 'failed', problem: 'auth' })
    expect(ready.body.cache.store.error).toMatch(/^WRONGPASS/)
    expect(ready.body.cache.problems[0]).toMatch(
      /refused our credentials \(WRONGPASS .*\): check the password/
    )
    // The app serves, from the origin.
    expect((await request(`${url}/page`)).body.toString()).toBe('page')
    expect((await request(`${url}/livez`)).status).toBe(200)

    const strict = await listen(expressApp(cache, true))
    const failing = await probe(`${strict.url}/readyz`)
    expect(failing.status).toBe(503)
    expect(failing.body).toMatchObject({
      status: 'not-ready',
      cache: { store: { problem: 'auth' } },
    })
    await cache.close()
  })

  it('say a missing password (NOAUTH) the same way, through readiness(cache) on a core Cache', async () => {
    const redis = await startRedisProcess({ password: 'right-password' })
    const cache = new Cache({ store: new RedisStore({ url: redis.url }) })
    const app = express()
    app.get('/readyz', readiness(cache))
    app.get('/livez', liveness())
    const { url } = await listen(app)
    const ready = await probe(`${url}/readyz`)
    expect(ready.body.cache.store).toMatchObject({
      problem: 'auth',
      error: expect.stringMatching(/^NOAUTH/),
    })
    expect((await request(`${url}/livez`)).status).toBe(200)
    await cache.close()
  })

  it('read a stopped Redis as a connection problem, and ok again once it is back', async () => {
    const redis = await startRedisProcess()
    const store = new RedisStore({ url: redis.url })
    const cache = responseCache({ ttl: '1m', storage: { store } })
    const { url } = await listen(expressApp(cache))
    expect((await probe(`${url}/readyz`)).body.cache.status).toBe('ok')
    await redis.stop()
    const down = await probe(`${url}/readyz`)
    expect(down.status).toBe(200)
    expect(down.body.cache.store.problem).toMatch(/^(connection|timeout)$/)
    expect((await request(`${url}/page`)).status).toBe(200)
    await redis.start()
    let back = down
    for (let i = 0; i < 50 && back.body.cache.store.ping !== 'ok'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      back = await probe(`${url}/readyz`)
    }
    expect(back.body.cache.store.ping).toBe('ok')
    await cache.close()
  })

  it('refuse bad options when built', () => {
    const cache = responseCache()
    expect(() => cache.readiness({ timeout: 'soon' })).toThrow(/timeout/)
    expect(() => cache.readiness({ failWhenDegraded: 'yes' } as never)).toThrow(/failWhenDegraded/)
    expect(() => readiness({} as never)).toThrow(/expected cache to be a Cache/)
  })
})

describe('readiness and liveness (Koa)', () => {
  it('answer on routes, with a wrong password read as auth', async () => {
    const redis = await startRedisProcess({ password: 'right-password' })
    const cache = koaCache.responseCache({
      ttl: '1m',
      storage: { store: new RedisStore({ url: `redis://:nope@127.0.0.1:${redis.port}` }) },
    })
    const app = new Koa()
    const router = new Router()
    router.get('/livez', cache.liveness())
    router.get('/readyz', cache.readiness())
    router.get('/readyz-strict', koaCache.readiness(cache, { failWhenDegraded: true }))
    app.use(cache.middleware())
    app.use(router.routes())
    const { url } = await listen(app)
    const live = await request(`${url}/livez`)
    expect([live.status, live.body.toString(), live.headers['cache-control']]).toEqual([
      200,
      '{"status":"ok"}',
      'no-store',
    ])
    const ready = await probe(`${url}/readyz`)
    expect(ready.status).toBe(200)
    expect(ready.body).toMatchObject({
      status: 'ready',
      cache: { status: 'degraded', store: { problem: 'auth' } },
    })
    expect((await probe(`${url}/readyz-strict`)).status).toBe(503)
    await cache.close()
  })
})

describe('readiness and liveness (Fastify)', () => {
  it('answer on routes, with a wrong password read as auth, and are never cached', async () => {
    const redis = await startRedisProcess({ password: 'right-password' })
    const cache = fastifyCache.responseCache({
      ttl: '1m',
      storage: { store: new RedisStore({ url: `redis://:nope@127.0.0.1:${redis.port}` }) },
    })
    const app = Fastify()
    await app.register(cache.plugin)
    app.get('/livez', cache.liveness())
    app.get('/readyz', cache.readiness())
    app.get('/readyz-strict', fastifyCache.readiness(cache, { failWhenDegraded: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    try {
      const live = await request(`${url}/livez`)
      expect([live.status, live.body.toString(), live.headers['cache-control']]).toEqual([
        200,
        '{"status":"ok"}',
        'no-store',
      ])
      expect(live.headers['content-type']).toMatch(/^application\/json/)
      const ready = await probe(`${url}/readyz`)
      expect(ready.status).toBe(200)
      expect(ready.cacheControl).toBe('no-store')
      expect(ready.body).toMatchObject({
        status: 'ready',
        cache: { status: 'degraded', store: { problem: 'auth' } },
      })
      expect((await probe(`${url}/readyz-strict`)).status).toBe(503)
      // Asked again, still answered live: a probe never comes from the cache.
      expect((await request(`${url}/livez`)).headers['cache-status']).not.toMatch(/hit/)
    } finally {
      await app.close()
    }
  })
})

describeCluster('cache.health() on a Redis Cluster', () => {
  it('pings every master', async () => {
    const client = createClusterClient()
    const prefix = uniquePrefix()
    const cache = new Cache({ store: new RedisStore({ client, prefix }) })
    await cache.set('k', 1)
    const health = await cache.health()
    expect(health).toMatchObject({ status: 'ok', store: { name: 'redis', ping: 'ok' } })
    expect(client.nodes('master').length).toBeGreaterThanOrEqual(3)
    await deleteKeysWithPrefix(client, prefix)
  })
})
