// The koa-memory app on Redis (REDIS_URL, default redis://127.0.0.1:6379): entries and tags
// are shared by every process that uses the same Redis and prefix.
//   pnpm --filter example-koa-redis start        (PORT=3000; EXIT_AFTER_DEMO=1 to stop after the demo)
import { get } from 'node:http'
import Koa from 'koa'
import Router from '@koa/router'
import { RedisStore } from '@cachewire/core/redis'
import { responseCache } from '@cachewire/koa'

const port = Number(process.env.PORT ?? 3000)
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const store = new RedisStore({ url: redisUrl, prefix: 'example-koa-redis:' })
const app = new Koa()
const router = new Router()
const users = new Map([
  ['1', { id: 1, name: 'Ada' }],
  ['2', { id: 2, name: 'Grace' }],
])
const slow = () => new Promise((resolve) => setTimeout(resolve, 50)) // a pretend database

app.use(async (ctx, next) => {
  const started = performance.now()
  ctx.res.on('finish', () => {
    const status = String(ctx.res.getHeader('cache-status') ?? '')
    const label = /; hit/.test(status)
      ? 'HIT'
      : /fwd=(bypass|method)/.test(status) || status === ''
        ? 'BYPASS'
        : 'MISS'
    const ms = (performance.now() - started).toFixed(1)
    console.log(
      `${ctx.method.padEnd(4)} ${ctx.originalUrl.padEnd(18)} ${ctx.res.statusCode} ${label.padEnd(6)} ${ms.padStart(6)} ms  ${status}`
    )
  })
  await next()
})

const cache = responseCache({ ttl: '1m', storage: { store } })
app.use(cache.middleware())

router.get('/products', async (ctx) => {
  await slow()
  ctx.body = [
    { id: 1, name: 'Keyboard' },
    { id: 2, name: 'Mouse' },
  ]
})

router.get('/users/:id', async (ctx) => {
  await slow()
  const user = users.get(ctx.params.id ?? '')
  if (user === undefined) {
    ctx.status = 404
    ctx.body = { error: 'no such user' }
    return
  }
  // Surrogate-Key values become tags of the stored response (the field itself never leaves).
  ctx.set('surrogate-key', `user:${user.id} users`)
  ctx.body = user
})

router.post('/users/:id/purge', async (ctx) => {
  const { removed, status } = (await ctx.cache?.invalidateTags([`user:${ctx.params.id}`])) ?? {
    removed: 0,
    status: 'applied',
  }
  ctx.body = { removed, status }
})

app.use(router.routes())

const server = app.listen(port, async () => {
  const base = `http://localhost:${port}`
  console.log(`cachewire Koa example (Redis at ${redisUrl}) on ${base}\n`)
  // Each step waits for the previous response to be stored (stores never delay a response).
  const call = async (path: string, init?: RequestInit) => {
    const response = await fetch(base + path, init)
    await response.arrayBuffer()
    await cache.whenIdle()
    return response
  }
  // Not fetch: it adds Cache-Control: no-cache to conditional requests, forcing a revalidation.
  const revalidate = (path: string, etag: string) =>
    new Promise((resolve) =>
      get(base + path, { headers: { 'if-none-match': etag } }, (res) =>
        res.resume().on('end', resolve)
      )
    )
  const step = (text: string) => console.log(`\n# ${text}`)
  // Start from a clean slate so the demo shows a miss even on a second run.
  await cache.purgeUrl('/products', `localhost:${port}`)
  await cache.invalidateTags(['users'])
  step('a miss, then a hit')
  await call('/products')
  const hit = await call('/products')
  step('a conditional request answered 304 from the cache')
  await revalidate('/products', hit.headers.get('etag') ?? '')
  step('a tagged user: miss, hit, purge by tag, miss again')
  await call('/users/1')
  await call('/users/1')
  await call('/users/1/purge', { method: 'POST' })
  await call('/users/1')
  if (process.env.EXIT_AFTER_DEMO === '1') return shutdown()
  console.log(`\nServing on ${base} (try: curl -i ${base}/products). Ctrl+C to stop.`)
})

function shutdown(): void {
  server.close(() => void store.close().then(() => process.exit(0)))
  server.closeAllConnections()
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
