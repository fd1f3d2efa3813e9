// Rate limiting an Express app and a Koa app with one limiter of @cachewire/core, sending the IETF
// RateLimit-Policy / RateLimit fields and Retry-After. On memory by default; with REDIS_URL every
// process counts together (one Lua script per hit, Redis time).
//   pnpm --filter example-rate-limit start     (EXIT_AFTER_DEMO=1 to stop after the demo)
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createServer, type Server } from 'node:http'
import express from 'express'
import Koa from 'koa'
import { Redis } from 'ioredis'
import { Cache, rateLimit } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { expressRateLimit, koaRateLimit } from './middleware.js'

const redis = process.env.REDIS_URL === undefined ? undefined : new Redis(process.env.REDIS_URL)
const cache = new Cache(
  redis === undefined
    ? {}
    : { store: new RedisStore({ client: redis, prefix: 'example-rate-limit:' }) }
)
const limiter = rateLimit(cache, { limit: 5, window: '1m', algorithm: 'sliding', name: 'api' })
const apiKey = (headers: Record<string, string | string[] | undefined>): string | undefined =>
  headers['x-api-key'] as string | undefined

const app = express()
app.use(expressRateLimit(limiter, (req) => apiKey(req.headers)))
app.get('/hello', (_req, res) => void res.json({ from: 'express' }))

const koa = new Koa()
koa.use(koaRateLimit(limiter, (ctx) => apiKey(ctx.headers)))
koa.use((ctx) => {
  ctx.body = { from: 'koa' }
})

async function listen(server: Server, port: number): Promise<string> {
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const port = Number(process.env.PORT ?? 3000)
const servers = [createServer(app), createServer(koa.callback())]
const [expressUrl, koaUrl] = await Promise.all([
  listen(servers[0] as Server, port),
  listen(servers[1] as Server, port === 0 ? 0 : port + 1),
])
console.log(
  `express on ${expressUrl}, koa on ${koaUrl}, store: ${redis === undefined ? 'memory' : 'redis'}`
)

// The demo: 7 requests per app with one API key (one quota shared by both apps: 5 a minute).
const key = `demo-${process.pid}`
for (const [name, url] of [
  ['express', expressUrl],
  ['koa', koaUrl],
] as const) {
  for (let i = 1; i <= 4; i++) {
    const response = await fetch(`${url}/hello`, { headers: { 'x-api-key': key } })
    const retry = response.headers.get('retry-after')
    console.log(
      `${name.padEnd(7)} #${i} ${response.status}  RateLimit: ${response.headers.get('ratelimit')}  RateLimit-Policy: ${response.headers.get('ratelimit-policy')}${retry === null ? '' : `  Retry-After: ${retry}`}`
    )
  }
}

if (process.env.EXIT_AFTER_DEMO === '1') {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  redis?.disconnect()
}
