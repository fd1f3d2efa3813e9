import { describe, expect, it } from 'vitest'
import express from 'express'
import Koa from 'koa'
import { responseCache } from '@cachewire/express'
import { responseCache as koaResponseCache } from '@cachewire/koa'
import { Cache } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { startRedisProcess } from '../helpers/redis-process.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import { listen, request, type TestResponse } from '../helpers/servers.js'
import { measure, msUntil } from '../helpers/measure.js'
import { registerCleanup } from '../setup/cleanup.js'

/**
 * The HTTP side of the Redis path, over real servers and a private redis-server (behind the TCP
 * fault proxy where it must go away): a response that says `stored` is a hit for the very next
 * request; handlers run once per hot URL whatever the store does; an expired hot entry is
 * revalidated once; the Vary cap holds across concurrent writers; a purge Redis cannot apply is
 * answered 503. Deadlines are generous: the suite runs on a loaded 2-core machine.
 */
const DEADLINE = '200ms'
const TOKEN = 'a-purge-token-of-16-chars-or-more'

function redisCache(url: string, prefix: string): { cache: Cache; errors: Error[] } {
  const cache = new Cache({
    store: new RedisStore({ url, prefix, timeout: DEADLINE }),
    invalidationQueue: { closeTimeout: 500 },
  })
  const errors: Error[] = []
  cache.on('error', (error) => errors.push(error))
  registerCleanup(() => cache.close())
  return { cache, errors }
}

function status(response: TestResponse): string {
  return String(response.headers['cache-status'] ?? '')
}

function p99(latencies: readonly number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0)
}

async function timed(
  url: string,
  options?: Parameters<typeof request>[1]
): Promise<{ response: TestResponse | undefined; ms: number }> {
  const started = performance.now()
  try {
    return {
      response: await request(url, { timeoutMs: 20_000, ...options }),
      ms: performance.now() - started,
    }
  } catch {
    return { response: undefined, ms: performance.now() - started }
  }
}

/** 5xx answers and requests that got no answer at all (client errors), of a batch. */
function failures(results: ReadonlyArray<{ response: TestResponse | undefined }>): {
  fiveXx: number
  clientErrors: number
} {
  return {
    fiveXx: results.filter(({ response }) => response !== undefined && response.status >= 500)
      .length,
    clientErrors: results.filter(({ response }) => response === undefined).length,
  }
}

describe('read-your-writes on Redis over HTTP', () => {
  const PAIRS = 40
  for (const framework of ['express', 'koa'] as const) {
    it(`${framework}: the request after a response that said stored is a hit, with and without Vary (${PAIRS} pairs each)`, async () => {
      const redis = await startRedisProcess()
      const { cache, errors } = redisCache(redis.url, `ryw-${framework}:`)
      const onError: Error[] = []
      let base: string
      if (framework === 'express') {
        const app = express()
        const responses = responseCache({
          ttl: '5m',
          storage: { cache },
          observability: { onError: (error) => onError.push(error) },
        })
        app.use(responses.middleware())
        app.get('/plain/:n', (req, res) => res.json({ n: req.params.n }))
        app.get('/vary/:n', (req, res) =>
          res
            .set('vary', 'accept-language')
            .json({ n: req.params.n, lang: req.headers['accept-language'] })
        )
        base = (await listen(app)).url
      } else {
        const app = new Koa()
        const responses = koaResponseCache({
          ttl: '5m',
          storage: { cache },
          observability: { onError: (error) => onError.push(error) },
        })
        app.use(responses.middleware())
        app.use((ctx) => {
          if (ctx.path.startsWith('/vary/')) ctx.set('vary', 'accept-language')
          ctx.body = { path: ctx.path, lang: ctx.get('accept-language') }
        })
        base = (await listen(app)).url
      }
      let storedSaid = 0
      let hitsAfterStored = 0
      const second: string[] = []
      for (let i = 0; i < PAIRS; i++) {
        for (const path of [`/plain/${i}`, `/vary/${i}`]) {
          const headers = { 'accept-language': i % 2 === 0 ? 'en' : 'fr' }
          const first = await request(`${base}${path}`, { headers })
          const next = await request(`${base}${path}`, { headers })
          second.push(status(next))
          if (/; stored/.test(status(first))) {
            storedSaid++
            if (/; hit/.test(status(next))) hitsAfterStored++
          }
        }
      }
      const hits = second.filter((value) => /; hit/.test(value)).length
      measure(`read-your-writes-${framework}`, {
        pairs: PAIRS * 2,
        storedSaid,
        hitsAfterStored,
        secondRequestHits: hits,
        errorEvents: errors.length,
        onErrorCalls: onError.length,
      })
      expect(storedSaid).toBe(PAIRS * 2)
      expect(hits).toBe(PAIRS * 2)
    })
  }

  it('express: a write Redis refuses (OOM) is not said to be stored, and onError hears of it', async () => {
    const redis = await startRedisProcess({
      args: ['--maxmemory', '1mb', '--maxmemory-policy', 'noeviction'],
    })
    const { cache } = redisCache(redis.url, 'ryw-oom:')
    const onError: Error[] = []
    const app = express()
    const responses = responseCache({
      ttl: '5m',
      storage: { cache },
      observability: { onError: (error) => onError.push(error) },
    })
    app.use(responses.middleware())
    app.get('/big/:n', (req, res) =>
      res.type('text').send(`${req.params.n}:${'x'.repeat(200_000)}`)
    )
    // Fill Redis past maxmemory: later writes are refused with OOM.
    for (let i = 0; i < 12; i++)
      await cache.set(`fill:${i}`, Buffer.alloc(100_000, 1), { ttl: '5m' })
    const { url } = await listen(app)
    const said: string[] = []
    for (let i = 0; i < 5; i++) said.push(status(await request(`${url}/big/${i}`)))
    const claimedStored = said.filter((value) => /; stored/.test(value)).length
    measure('oom-http', {
      requests: said.length,
      claimedStored,
      onErrorCalls: onError.length,
      sample: said[0],
    })
    expect(claimedStored).toBe(0)
    expect(onError.length).toBeGreaterThan(0)
  })
})

describe('an app started while Redis is down', () => {
  it('serves every request (misses), and hits come back soon after Redis starts', async () => {
    const redis = await startRedisProcess()
    await redis.stop()
    const { cache, errors } = redisCache(redis.url, 'cold-start:')
    const onError: Error[] = []
    const app = express()
    const responses = responseCache({
      ttl: '5m',
      storage: { cache },
      observability: { onError: (error) => onError.push(error) },
    })
    app.use(responses.middleware())
    app.get('/item/:n', (req, res) => res.json({ n: req.params.n }))
    const { url } = await listen(app)
    const during = await Promise.all(
      Array.from({ length: 100 }, (_, i) => timed(`${url}/item/${i % 10}`))
    )
    const { fiveXx, clientErrors } = failures(during)
    await redis.start()
    const startedAt = performance.now()
    // A hit needs a stored entry: each probe is a pair, the second of which must hit.
    let probe = 0
    const hitsBackMs = await msUntil(
      async () => {
        const path = `${url}/item/probe-${probe++}`
        await request(path)
        return /; hit/.test(status(await request(path)))
      },
      { timeoutMs: 15_000, intervalMs: 20 }
    )
    const after = await Promise.all(
      Array.from({ length: 20 }, () => timed(`${url}/item/probe-${probe - 1}`))
    )
    measure('http-start-with-redis-down', {
      fiveXx,
      clientErrors,
      'during.p99': p99(during.map(({ ms }) => ms)),
      'after.p99': p99(after.map(({ ms }) => ms)),
      hitsBackMs,
      sinceStartMs: Math.round(performance.now() - startedAt),
      lostNote: 'nothing was stored before Redis started',
      errorEvents: errors.length,
      onErrorCalls: onError.length,
    })
    expect(fiveXx + clientErrors).toBe(0)
    expect(onError.length).toBeGreaterThan(0)
    expect(hitsBackMs).toBeLessThan(5000)
  })
})

describe('coalescing in process, whatever the store', () => {
  it('Redis unreachable: 20 hot URLs × 10 concurrent requests run each handler once', async () => {
    const redis = await startRedisProcess()
    const proxy = await createTcpProxy({ targetPort: redis.port })
    registerCleanup(() => proxy.close())
    const { cache } = redisCache(`redis://127.0.0.1:${proxy.port}`, 'hot:')
    const runs = new Map<string, number>()
    const app = express()
    // Waiters give up after the coalescing timeout (5 s by default); arrivals at load 12+ took 4 s.
    const responses = responseCache({ ttl: '5m', storage: { cache }, coalesce: { timeout: '30s' } })
    // A handler that takes a while, as a real one does: it answers once every concurrent request
    // has reached the app (a fixed 300 ms was not enough at load 12+, where 200 requests took
    // seconds to arrive, and a request that starts after its leader settled rightly looks again).
    let arrived = 0
    let allArrived = (): void => {}
    const arrivedAll = new Promise<void>((resolve) => (allArrived = resolve))
    app.use((req, _res, next) => {
      if (req.path.startsWith('/hot/') && !req.path.startsWith('/hot/warm') && ++arrived === 200)
        allArrived()
      next()
    })
    app.use(responses.middleware())
    app.get('/hot/:n', (req, res) => {
      runs.set(req.params.n, (runs.get(req.params.n) ?? 0) + 1)
      const answer = (): void => void res.json({ n: req.params.n })
      if (req.params.n.startsWith('warm')) setTimeout(answer, 300)
      else void arrivedAll.then(() => setTimeout(answer, 50))
    })
    const { url } = await listen(app)
    const before = await Promise.all(
      Array.from({ length: 20 }, (_, n) => timed(`${url}/hot/warm-${n}`))
    )
    proxy.setMode('blackhole')
    const results = await Promise.all(
      Array.from({ length: 20 * 10 }, (_, i) => timed(`${url}/hot/${i % 20}`))
    )
    const handlerRuns = [...runs.entries()]
      .filter(([n]) => !n.startsWith('warm'))
      .reduce((sum, [, count]) => sum + count, 0)
    const { fiveXx, clientErrors } = failures(results)
    measure('redis-down-hot-urls', {
      urls: 20,
      requests: results.length,
      handlerRuns,
      fiveXx,
      clientErrors,
      'before.p99': p99(before.map(({ ms }) => ms)),
      'during.p99': p99(results.map(({ ms }) => ms)),
    })
    proxy.setMode('pass')
    expect(fiveXx + clientErrors).toBe(0)
    expect(handlerRuns).toBe(20)
  })

  it('an expired hot entry under 200 concurrent requests is revalidated once', async () => {
    const redis = await startRedisProcess()
    const { cache } = redisCache(redis.url, 'storm:')
    let revalidations = 0
    let version = 1
    const app = express()
    const responses = responseCache({ storage: { cache } })
    app.use(responses.middleware())
    app.get('/storm', (req, res) => {
      if (req.headers['if-none-match'] !== undefined) revalidations++
      // The first version is fresh for 1 s, then stale: every request after that must be
      // revalidated (no stale window); the second stays fresh for the rest of the test.
      res
        .set('cache-control', version === 1 ? 'max-age=1' : 'max-age=300')
        .set('etag', `"v${version}"`)
      setTimeout(() => res.json({ version }), 50)
    })
    const { url } = await listen(app)
    const first = await request(`${url}/storm`)
    expect(status(first)).toMatch(/; stored/)
    const hitsBefore = await Promise.all(Array.from({ length: 20 }, () => timed(`${url}/storm`)))
    await msUntil(
      async () =>
        !/; hit/.test(
          status(await request(`${url}/storm`, { headers: { 'cache-control': 'only-if-cached' } }))
        ),
      { timeoutMs: 10_000, intervalMs: 100 }
    )
    version = 2
    revalidations = 0
    const results = await Promise.all(Array.from({ length: 200 }, () => timed(`${url}/storm`)))
    const { fiveXx, clientErrors } = failures(results)
    const hitsBackMs = await msUntil(
      async () => /; hit/.test(status(await request(`${url}/storm`))),
      { timeoutMs: 10_000 }
    )
    measure('stale-revalidation-storm', {
      requests: results.length,
      revalidations,
      fiveXx,
      clientErrors,
      'before.p99': p99(hitsBefore.map(({ ms }) => ms)),
      'during.p99': p99(results.map(({ ms }) => ms)),
      hitsBackMs,
    })
    expect(fiveXx + clientErrors).toBe(0)
    expect(revalidations).toBe(1)
  })
})

describe('the Vary cap on Redis', () => {
  it('200 concurrent variants of one URL with maxVariants 32 leave at most 32 stored', async () => {
    const redis = await startRedisProcess()
    // Two processes' worth of engines writing at once: the cap must hold across them, in Redis.
    const engines = [redisCache(redis.url, 'vary:'), redisCache(redis.url, 'vary:')]
    const urls: string[] = []
    for (const { cache } of engines) {
      const app = express()
      const responses = responseCache({ ttl: '5m', storage: { cache, maxVariants: 32 } })
      app.use(responses.middleware())
      app.get('/v', (req, res) =>
        res.set('vary', 'x-variant').json({ variant: req.headers['x-variant'] })
      )
      urls.push((await listen(app)).url)
    }
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        timed(`${urls[i % 2]}/v`, { headers: { 'x-variant': `v${i}` } })
      )
    )
    const { fiveXx, clientErrors } = failures(results)
    // Ask for every variant without running the handler: only stored ones answer.
    let stored = 0
    for (let i = 0; i < 200; i++) {
      const probe = await request(`${urls[0]}/v`, {
        headers: { 'x-variant': `v${i}`, 'cache-control': 'only-if-cached' },
      })
      if (probe.status === 200) stored++
    }
    measure('vary-cap-redis', {
      variantsRequested: 200,
      maxVariants: 32,
      variantsStored: stored,
      fiveXx,
      clientErrors,
      'during.p99': p99(results.map(({ ms }) => ms)),
    })
    expect(fiveXx + clientErrors).toBe(0)
    expect(stored).toBeGreaterThan(0)
    expect(stored).toBeLessThanOrEqual(32)
  })
})

describe('the purge router while Redis is down', () => {
  it('answers 503 (queued) for a purge it could not apply, 200 once Redis is back; no purged page is served', async () => {
    const redis = await startRedisProcess()
    const { cache } = redisCache(redis.url, 'purge-http:')
    let version = 1
    const app = express()
    const responses = responseCache({ ttl: '5m', storage: { cache } })
    app.use('/_cache', responses.purgeRouter({ token: TOKEN, log: () => {} }))
    app.use(responses.middleware())
    app.get('/page/:n', (req, res) => res.json({ n: req.params.n, version }))
    const { url } = await listen(app)
    for (let n = 0; n < 10; n++) await request(`${url}/page/${n}`)
    const before = await Promise.all(
      Array.from({ length: 10 }, (_, n) => timed(`${url}/page/${n}`))
    )
    expect(
      before.every(({ response }) => response !== undefined && /; hit/.test(status(response)))
    ).toBe(true)

    redis.freeze()
    version = 2
    const purge = (target: string): Promise<TestResponse> =>
      request(`${url}/_cache/purge/url`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: target }),
        timeoutMs: 20_000,
      })
    const during = await purge(`${url}/page/3`)
    const duringBody = JSON.parse(during.text) as { ok: boolean; status: string }
    const pages = await Promise.all(Array.from({ length: 10 }, (_, n) => timed(`${url}/page/${n}`)))
    const { fiveXx, clientErrors } = failures(pages)
    const thawedAt = performance.now()
    redis.thaw()
    let stalePurgedServed = 0
    const hitsBackMs = await msUntil(
      async () => {
        const page = await request(`${url}/page/3`)
        if ((JSON.parse(page.text) as { version: number }).version === 1) stalePurgedServed++
        return /; hit/.test(status(await request(`${url}/page/5`)))
      },
      { timeoutMs: 10_000, intervalMs: 20 }
    )
    // The write breaker closes on its own probe: a purge asked for meanwhile is still queued.
    let after = await purge(`${url}/page/4`)
    const purgesBackMs = await msUntil(
      async () => (after = await purge(`${url}/page/4`)).status === 200,
      { timeoutMs: 10_000, intervalMs: 50 }
    )
    const lost = (
      await Promise.all(
        Array.from({ length: 10 }, (_, n) =>
          n === 3 || n === 4
            ? true
            : request(`${url}/page/${n}`).then((r) => /; hit/.test(status(r)))
        )
      )
    ).filter((hit) => !hit).length
    measure('purge-router-outage', {
      duringStatus: during.status,
      duringResult: duringBody.status,
      afterStatus: after.status,
      fiveXx,
      clientErrors,
      'before.p99': p99(before.map(({ ms }) => ms)),
      'during.p99': p99(pages.map(({ ms }) => ms)),
      hitsBackMs,
      purgesBackMs,
      sinceThawMs: Math.round(performance.now() - thawedAt),
      stalePurgedServed,
      lost,
    })
    expect(during.status).toBe(503)
    expect(duringBody).toMatchObject({ ok: false, status: 'queued' })
    expect(after.status).toBe(200)
    expect(stalePurgedServed).toBe(0)
    expect(fiveXx + clientErrors).toBe(0)
  })
})
