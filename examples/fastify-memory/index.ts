// A small Fastify API on the in-memory store. Every response is logged with its Cache-Status
// (an onResponse hook, which runs for hits too), and at startup the app calls itself so the log
// shows a miss, a hit, a 304, a per-route policy and a tag purge.
//   pnpm --filter example-fastify-memory start        (PORT=3000; EXIT_AFTER_DEMO=1 to stop after the demo)
import { get } from 'node:http'
import Fastify from 'fastify'
import { responseCache } from '@cachewire/fastify'

const port = Number(process.env.PORT ?? 3000)
const app = Fastify()
const users = new Map([
  ['1', { id: 1, name: 'Ada' }],
  ['2', { id: 2, name: 'Grace' }],
])
const slow = () => new Promise((resolve) => setTimeout(resolve, 50)) // a pretend database

app.addHook('onResponse', async (request, reply) => {
  const status = String(reply.getHeader('cache-status') ?? '')
  const label = /; hit/.test(status)
    ? 'HIT'
    : /fwd=(bypass|method)/.test(status) || status === ''
      ? 'BYPASS'
      : 'MISS'
  const ms = reply.elapsedTime.toFixed(1)
  console.log(
    `${request.method.padEnd(4)} ${request.url.padEnd(18)} ${reply.statusCode} ${label.padEnd(6)} ${ms.padStart(6)} ms  ${status}`
  )
})

const cache = responseCache({ ttl: '1m' })
await app.register(cache.plugin)

app.get('/products', async () => {
  await slow()
  return [
    { id: 1, name: 'Keyboard' },
    { id: 2, name: 'Mouse' },
  ]
})

// A route's own policy: five minutes, filed under tags a purge can name.
app.get<{ Params: { id: string } }>(
  '/users/:id',
  {
    config: {
      cache: {
        ttl: '5m',
        tags: (request) => ['users', `user:${(request.params as { id: string }).id}`],
      },
    },
  },
  async (request, reply) => {
    await slow()
    const user = users.get(request.params.id)
    if (user === undefined) return reply.code(404).send({ error: 'no such user' })
    return user
  }
)

app.post<{ Params: { id: string } }>('/users/:id/purge', async (request) => {
  const { removed, status } = (await request.cache?.invalidateTags([
    `user:${request.params.id}`,
  ])) ?? { removed: 0, status: 'applied' }
  return { removed, status }
})

const address = await app.listen({ port, host: '127.0.0.1' })
const base = address
console.log(`cachewire Fastify example (in-memory store) on ${base}\n`)
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
step('a miss, then a hit')
await call('/products')
const hit = await call('/products')
step('a conditional request answered 304 from the cache')
await revalidate('/products', hit.headers.get('etag') ?? '')
step('a tagged user (its route caches for 5 minutes): miss, hit, purge by tag, miss again')
await call('/users/1')
await call('/users/1')
await call('/users/1/purge', { method: 'POST' })
await call('/users/1')
if (process.env.EXIT_AFTER_DEMO === '1') {
  await app.close()
} else {
  console.log(`\nServing on ${base} (try: curl -i ${base}/products). Ctrl+C to stop.`)
}
