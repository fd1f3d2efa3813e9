// Frozen Redis under steady load: an Express app caching through Redis, with Redis stopped by
// SIGSTOP for FREEZE_MS and then resumed. Compares cachewire (its own client, and a client with
// ioredis defaults) with a plain ioredis-default cache middleware. Server pinned to core 0, load
// from core 1. Run: node bench/redis-frozen.mjs  (writes bench/RESULTS-redis-frozen.md)
import { fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import { createServer } from 'node:net'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const BASELINE_MS = Number(process.env.BASELINE_MS ?? 5000)
const FREEZE_MS = Number(process.env.FREEZE_MS ?? 5000)
const CONCURRENCY = 16
const CLIENT_TIMEOUT_MS = 10_000

if (process.argv[2] === 'server') {
  // The app under test, in its own (pinned) process.
  const { default: express } = await import('express')
  const { Redis } = await import('ioredis')
  const variant = process.argv[3]
  const url = process.env.REDIS_URL
  const app = express()
  const payload = { items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })) }
  if (variant === 'ioredis-defaults') {
    // What an app writes with ioredis as it comes: no command timeout, offline queue on.
    const redis = new Redis(url)
    redis.on('error', () => {})
    app.use(async (req, res, next) => {
      try {
        const cached = await redis.getBuffer(`naive:${req.url}`)
        if (cached) {
          res.set('cache-status', 'naive; hit').type('json').send(cached)
          return
        }
      } catch (error) {
        next(error)
        return
      }
      const json = res.json.bind(res)
      res.json = (body) => {
        void redis.set(`naive:${req.url}`, JSON.stringify(body), 'EX', 60).catch(() => {})
        return json(body)
      }
      next()
    })
  } else {
    const { cacheMiddleware } = await import('@cachewire/express')
    const { RedisStore } = await import('@cachewire/core/redis')
    const store =
      variant === 'cachewire-own-client'
        ? new RedisStore({ url, prefix: 'frozen:' })
        : new RedisStore({
            client: Object.assign(new Redis(url), {}).on('error', () => {}),
            prefix: 'frozen:',
          })
    app.use(cacheMiddleware({ ttl: '1m', storage: { store } }))
  }
  app.get('/item/:n', (req, res) => res.json({ n: req.params.n, ...payload }))
  const server = http
    .createServer(app)
    .listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
  process.on('SIGTERM', () => process.exit(0))
} else {
  const freePort = async () => {
    const s = createServer().listen(0, '127.0.0.1')
    await once(s, 'listening')
    const { port } = s.address()
    s.close()
    return port
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

  async function load(base, durationMs, onSample) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
    const until = performance.now() + durationMs
    let i = 0
    const one = () =>
      new Promise((resolve) => {
        const started = performance.now()
        const req = http.get(
          `${base}/item/${i++ % 50}`,
          { agent, timeout: CLIENT_TIMEOUT_MS },
          (res) => {
            res.resume()
            res.on('end', () =>
              resolve({
                at: started,
                ms: performance.now() - started,
                status: res.statusCode,
                hit: /hit/.test(String(res.headers['cache-status'] ?? '')),
              })
            )
          }
        )
        req.on('timeout', () => req.destroy(new Error('timeout')))
        req.on('error', () =>
          resolve({ at: started, ms: performance.now() - started, status: 0, hit: false })
        )
      })
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) onSample(await one())
      })
    )
    agent.destroy()
  }
  const stats = (samples) => {
    const l = samples.map((s) => s.ms).sort((a, b) => a - b)
    const q = (p) => (l.length ? l[Math.min(l.length - 1, Math.floor(p * l.length))] : NaN)
    return {
      n: samples.length,
      p50: q(0.5),
      p99: q(0.99),
      fivexx: samples.filter((s) => s.status >= 500).length,
      failed: samples.filter((s) => s.status === 0).length,
    }
  }

  const rows = []
  for (const variant of [
    'cachewire-own-client',
    'cachewire-default-ioredis-client',
    'ioredis-defaults',
  ]) {
    const port = await freePort()
    const redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' }
    )
    await sleep(300)
    const server = fork(fileURLToPath(import.meta.url), ['server', variant], {
      env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}` },
      execPath: 'taskset',
      execArgv: ['-c', '0', process.execPath],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const [{ port: appPort }] = await once(server, 'message')
    const base = `http://127.0.0.1:${appPort}`
    const phases = { baseline: [], frozen: [], after: [] }
    await load(base, 1000, () => {})
    await load(base, BASELINE_MS, (s) => phases.baseline.push(s))
    const frozenAt = performance.now()
    redis.kill('SIGSTOP')
    const freezeEnds = sleep(FREEZE_MS).then(() => {
      redis.kill('SIGCONT')
      return performance.now()
    })
    let thawedAt
    freezeEnds.then((t) => (thawedAt = t))
    await load(base, FREEZE_MS + 15_000, (s) =>
      (thawedAt === undefined || s.at < thawedAt ? phases.frozen : phases.after).push(s)
    )
    // Recovery: from SIGCONT to the first 250 ms window in which most answers are hits again.
    const windows = new Map()
    for (const s of phases.after) {
      const w = Math.floor((s.at - thawedAt) / 250)
      const v = windows.get(w) ?? { n: 0, hits: 0 }
      v.n++
      if (s.hit) v.hits++
      windows.set(w, v)
    }
    const firstGood = [...windows.entries()]
      .sort((a, b) => a[0] - b[0])
      .find(([, v]) => v.hits / v.n > 0.5)
    const recoverMs = firstGood === undefined ? 'not within 15 s' : `${(firstGood[0] + 1) * 250} ms`
    const b = stats(phases.baseline),
      f = stats(phases.frozen),
      a = stats(phases.after)
    rows.push(
      `| ${variant} | ${b.fivexx + f.fivexx + a.fivexx} | ${b.failed + f.failed + a.failed} | ${b.p50.toFixed(1)} / ${b.p99.toFixed(1)} | ${f.p50.toFixed(1)} / ${f.p99.toFixed(1)} | ${f.n} | ${recoverMs} |`
    )
    console.log(rows.at(-1))
    server.kill('SIGTERM')
    redis.kill('SIGCONT')
    redis.kill('SIGTERM')
    await once(server, 'exit')
    void frozenAt
  }
  const out = [
    '# Frozen Redis under load',
    '',
    `Run ${new Date().toISOString()}: \`node bench/redis-frozen.mjs\`. Express 5 app on core 0, ${CONCURRENCY} keep-alive clients on core 1, 50 URLs, ${BASELINE_MS / 1000} s baseline, Redis frozen with SIGSTOP for ${FREEZE_MS / 1000} s, then SIGCONT. Client timeout ${CLIENT_TIMEOUT_MS / 1000} s (a timed-out request counts as failed).`,
    '',
    '| variant | 5xx | failed / timed out | baseline p50 / p99 ms | during freeze p50 / p99 ms | requests answered during freeze | hits back after SIGCONT |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    '- cachewire-own-client: `new RedisStore({ url })` (cachewire tunes the client: deadline 50 ms, no offline queue once ready, breaker).',
    '- cachewire-default-ioredis-client: `new RedisStore({ client: new Redis(url) })`, ioredis defaults on the client; the store deadline and the breaker still bound each call.',
    '- ioredis-defaults: a plain cache middleware on `new Redis(url)` awaiting `GET` before the handler, as apps commonly write it.',
  ]
  writeFileSync(
    fileURLToPath(new URL('./RESULTS-redis-frozen.md', import.meta.url)),
    out.join('\n') + '\n'
  )
  console.log('wrote bench/RESULTS-redis-frozen.md')
}
