import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import express from 'express'
import { cacheMiddleware } from '@cachewire/express'
import { RedisStore } from '@cachewire/core/redis'
import { startRedisProcess, type RedisProcess } from '../helpers/redis-process.js'
import { createTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { listen } from '../helpers/servers.js'
import { runLoad, summarise, type LoadSummary } from '../helpers/load.js'
import { measure } from '../helpers/measure.js'

/** The deadline under test; 100 ms, so a healthy read on a loaded machine (CI runs this with two busy loops) is not one of its misses. */
const DEADLINE_MS = 100
/** Room for a loaded test machine on top of baseline + deadline; a hang would be seconds. */
const MARGIN_MS = 600

describe('an Express app under steady load while Redis misbehaves', () => {
  let redis: RedisProcess
  let proxy: TcpProxy
  let base: string
  let middleware: ReturnType<typeof cacheMiddleware>

  beforeAll(async () => {
    redis = await startRedisProcess()
    proxy = await createTcpProxy({ targetPort: redis.port })
    const app = express()
    const store = new RedisStore({
      url: `redis://127.0.0.1:${proxy.port}`,
      prefix: 'load:',
      timeout: DEADLINE_MS,
    })
    middleware = cacheMiddleware({ ttl: '1m', storage: { store } })
    app.use(middleware)
    app.get('/item/:n', (req, res) => res.json({ n: req.params.n, at: Date.now() }))
    base = (await listen(app)).url
  })
  afterAll(async () => {
    await middleware.cache.close()
    await proxy.close()
  })

  const load = (durationMs: number): Promise<LoadSummary> =>
    runLoad({ url: (i) => `${base}/item/${i % 20}`, concurrency: 8, durationMs }).then(summarise)

  async function faultCycle(
    scenario: string,
    start: () => void | Promise<void>,
    stop: () => void | Promise<void>
  ): Promise<{ baseline: LoadSummary; during: LoadSummary; recovered: LoadSummary }> {
    // Fill the cache: on a loaded machine the first stores take a while to land.
    for (let i = 0; i < 20 && (await load(300)).hitRatio < 0.9; i++) {
      // keep filling
    }
    const baseline = await load(1000)
    await start()
    const during = await load(2000)
    await stop()
    const stoppedAt = performance.now()
    let recovered = await load(500)
    for (let i = 0; i < 20 && recovered.hitRatio <= 0.5; i++) recovered = await load(500)
    // Granularity: one 500 ms load window (the window in which hits passed half of the answers).
    const hitsBackWithinMs = Math.round(performance.now() - stoppedAt)
    measure(`express-load-${scenario}`, {
      fiveXxOrNon2xx: baseline.non2xx + during.non2xx + recovered.non2xx,
      clientErrors: baseline.errors + during.errors + recovered.errors,
      'before.p99': baseline.p99,
      'during.p99': during.p99,
      'before.hitRatio': baseline.hitRatio,
      'during.hitRatio': during.hitRatio,
      'after.hitRatio': recovered.hitRatio,
      hitsBackWithinMs,
      requests: baseline.requests + during.requests + recovered.requests,
    })
    return { baseline, during, recovered }
  }

  function expectServed(result: {
    baseline: LoadSummary
    during: LoadSummary
    recovered: LoadSummary
  }): void {
    expect(result.baseline.hitRatio).toBeGreaterThan(0.8)
    for (const phase of [result.baseline, result.during, result.recovered]) {
      expect(phase.non2xx).toBe(0)
      expect(phase.errors).toBe(0)
    }
    expect(result.during.p99).toBeLessThan(result.baseline.p99 + DEADLINE_MS + MARGIN_MS)
    expect(result.recovered.hitRatio).toBeGreaterThan(0.5)
  }

  it('Redis frozen (SIGSTOP, then SIGCONT)', async () => {
    expectServed(
      await faultCycle(
        'frozen',
        () => redis.freeze(),
        () => redis.thaw()
      )
    )
  })

  it('Redis behind a blackhole, then healed', async () => {
    expectServed(
      await faultCycle(
        'blackhole',
        () => proxy.setMode('blackhole'),
        () => proxy.setMode('pass')
      )
    )
  })

  it('Redis slowed by 200 ms per reply', async () => {
    expectServed(
      await faultCycle(
        'delay-200ms',
        () => proxy.setMode('delay', 200),
        () => proxy.setMode('pass')
      )
    )
  })

  it('Redis shut down and restarted (empty)', async () => {
    expectServed(
      await faultCycle(
        'restart',
        () => redis.stop(),
        () => redis.start()
      )
    )
  })
})
