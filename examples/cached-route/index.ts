// Per-route caching: each route says how long, under which key and with which tags; a write
// purges by tag. Every route is a policy on the app's one cache, so one invalidation reaches all.
//   pnpm --filter example-cached-route start        (PORT=3000; EXIT_AFTER_DEMO=1 to stop after the demo)
import express from 'express'
import { responseCache } from '@cachewire/express'

const port = Number(process.env.PORT ?? 3000)
const app = express()
const cache = responseCache() // in memory; pass { storage: { store: new RedisStore(...) } } to share it between processes
const articles = new Map([
  ['1', 'Caching at the edge'],
  ['2', 'Why Vary matters'],
])

app.use((req, res, next) => {
  res.on('finish', () =>
    console.log(
      `${req.method.padEnd(4)} ${req.originalUrl.padEnd(24)} ${res.statusCode}  ${res.getHeader('cache-status') ?? ''}`
    )
  )
  next()
})

// One entry per article and language (a key function may read params, headers or req.user);
// tagged so that editing an article purges every language of it.
const article = cache.route({
  ttl: '5m',
  keys: { key: (req) => String(req.query.lang ?? 'en') },
  tags: (req) => [`article:${req.params.id}`],
})
app.get('/articles/:id', article, (req, res) => {
  const title = articles.get(req.params.id)
  if (title === undefined) return void res.status(404).json({ error: 'not found' })
  res.json({ id: req.params.id, title, lang: req.query.lang ?? 'en' })
})

// A list that may be a little stale: served from the cache while refreshed in the background.
app.get(
  '/articles',
  cache.route(
    { ttl: '10s', stale: { whileRevalidate: '1m' }, tags: ['article-list'] },
    (_req, res) => {
      res.json([...articles].map(([id, title]) => ({ id, title })))
    }
  )
)

// Writes pass through the same route middleware: the method bypasses the cache, req.cache is set.
app.put('/articles/:id/:title', article, async (req, res) => {
  articles.set(req.params.id, req.params.title)
  await req.cache?.invalidateTags([`article:${req.params.id}`, 'article-list'])
  res.sendStatus(204)
})

const server = app.listen(port, async () => {
  const base = `http://localhost:${port}`
  console.log(`cachewire per-route example on ${base}\n`)
  const call = (path: string, method = 'GET') => fetch(base + path, { method })
  await call('/articles/1')
  await call('/articles/1')
  await call('/articles/1?lang=fr')
  await call('/articles/1/Caching%20everywhere', 'PUT')
  await call('/articles/1')
  await call('/articles/1?lang=fr')
  await call('/articles')
  await call('/articles')
  if (process.env.EXIT_AFTER_DEMO === '1') {
    server.close(() => process.exit(0))
    server.closeAllConnections()
    return
  }
  console.log(`\nServing on ${base}. Ctrl+C to stop.`)
})
