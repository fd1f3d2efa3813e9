// One benchmark server: `node server.mjs <variant>` with PORT and BODY_BYTES in the environment.
// Every variant answers GET /data with the same JSON body of about BODY_BYTES bytes.
// The load generator warms each cache variant before measuring, so the run measures hits.
// A `-zipf` or `-miss` variant is its base variant answering every GET /data/<id> instead: the
// load then picks ids from 10,000 hot keys (bench/zipf.lua) or never repeats one (bench/miss.lua).
import http from 'node:http'

const variant = process.argv[2]
const manyKeys = /-(zipf|miss)$/.test(variant ?? '')
const route = manyKeys ? '/data/:id' : '/data'
const port = Number(process.env.PORT ?? 3100)
const bodyBytes = Number(process.env.BODY_BYTES ?? 1024)
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

// An array of small records, trimmed to about bodyBytes of JSON.
const items = []
while (JSON.stringify(items).length < bodyBytes - 40)
  items.push({ id: items.length, name: `item ${items.length}`, ok: true })
const payload = { items }
const payloadText = JSON.stringify(payload)

// A -miss variant measures the cost of storing, so the cardinality guard (which, past 10,000 new
// keys a minute, serves further new keys uncached) is off there: with it on, the run would measure
// bypasses once the guard trips. The hit and Zipf variants keep every default safety check.
/** Work the SIGTERM handler awaits before exiting: a Redis variant's key removal. */
const beforeExit = []

const safety = /-miss$/.test(variant ?? '') ? { safety: { maxKeysPerWindow: false } } : {}

/**
 * A RedisStore on the URL (the store builds its ioredis client) or, given `connect`, on the
 * client it makes: the store takes either library's client.
 */
async function redisStore(connect) {
  const { RedisStore } = await import('@cachewire/core/redis')
  const store = new RedisStore({
    ...(connect === undefined ? { url: redisUrl } : { client: await connect() }),
    prefix: `cw-bench:${process.pid}:`,
    timeout: Number(process.env.REDIS_DEADLINE_MS) || undefined,
  })
  // Its keys are removed before the process exits on SIGTERM (see the handler at the end).
  beforeExit.push(() => store.clear())
  return store
}

/** An ioredis 6 client (the `ioredis6` alias) with the store's client defaults, as a user on v6 makes it. */
async function ioredis6Client() {
  const { Redis } = await import('ioredis6')
  const { CACHE_CLIENT_DEFAULTS } = await import('@cachewire/core/redis')
  const client = new Redis(redisUrl, CACHE_CLIENT_DEFAULTS)
  await client.ping()
  return client
}

async function nodeRedisClient() {
  const { createClient } = await import('redis')
  const client = createClient({ url: redisUrl })
  client.on('error', (error) => console.error('redis:', error.message))
  await client.connect()
  return client
}

// The production setup: a memory L1 in front of Redis, kept in step across processes by the bus.
async function tieredStore() {
  const { TieredStore } = await import('@cachewire/core')
  const { RedisBus } = await import('@cachewire/core/redis')
  const l2 = await redisStore()
  const store = new TieredStore({
    l2,
    bus: new RedisBus({ client: l2.client, channel: `cw-bench:${process.pid}:invalidate` }),
  })
  await store.start()
  return store
}

const variants = {
  async 'raw-node'() {
    const length = String(Buffer.byteLength(payloadText))
    return http.createServer((req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': length,
      })
      res.end(payloadText)
    })
  },
  // Raw node:http sending the head a front-door hit sends (the same six lines, the ETag made by the
  // engine's own `generateEtag`): what Node itself costs to write that response, the front door's
  // own floor.
  async 'raw-node-same-lines'() {
    const { generateEtag } = await import('@cachewire/http')
    const body = Buffer.from(payloadText)
    const head = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(body.length),
      etag: generateEtag(body, 'strong'),
      'accept-ranges': 'bytes',
      age: '0',
      'cache-status': 'cachewire; hit; ttl=299',
    }
    return http.createServer((req, res) => {
      res.writeHead(200, head)
      res.end(payloadText)
    })
  },
  async 'express-floor'() {
    const { default: express } = await import('express')
    const app = express()
    const length = String(Buffer.byteLength(payloadText))
    app.use((req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': length,
      })
      res.end(payloadText)
    })
    return http.createServer(app)
  },
  async 'express-constant'() {
    const { default: express } = await import('express')
    const app = express()
    app.get('/data', (req, res) => res.json(payload))
    return http.createServer(app)
  },
  async apicache() {
    const { default: express } = await import('express')
    const { default: apicache } = await import('apicache')
    const app = express()
    app.get(route, apicache.middleware('5 minutes'), (req, res) => res.json(payload))
    return http.createServer(app)
  },
  async 'cachewire-express'(store) {
    const { default: express } = await import('express')
    const { cacheMiddleware } = await import('@cachewire/express')
    const app = express()
    app.use(cacheMiddleware({ ttl: '5m', storage: { store }, ...safety }))
    app.get(route, (req, res) => res.json(payload))
    return http.createServer(app)
  },
  async 'cachewire-express-front'(store) {
    const { default: express } = await import('express')
    const { responseCache } = await import('@cachewire/express')
    const app = express()
    const cache = responseCache({ ttl: '5m', storage: { store }, ...safety })
    app.use(cache.middleware())
    app.get(route, (req, res) => res.json(payload))
    return http.createServer(cache.frontDoor(app))
  },
  async 'cachewire-express-redis'() {
    return variants['cachewire-express'](await redisStore())
  },
  async 'cachewire-express-front-redis'() {
    return variants['cachewire-express-front'](await redisStore())
  },
  async 'cachewire-express-front-ioredis6'() {
    return variants['cachewire-express-front'](await redisStore(ioredis6Client))
  },
  async 'cachewire-express-front-node-redis'() {
    return variants['cachewire-express-front'](await redisStore(nodeRedisClient))
  },
  async 'cachewire-express-front-tiered'() {
    return variants['cachewire-express-front'](await tieredStore())
  },
  async 'koa-floor'() {
    const { default: Koa } = await import('koa')
    const app = new Koa()
    const body = Buffer.from(payloadText)
    app.use((ctx) => {
      ctx.type = 'application/json; charset=utf-8'
      ctx.body = body
    })
    return http.createServer(app.callback())
  },
  async 'koa-constant'() {
    const { default: Koa } = await import('koa')
    const { default: Router } = await import('@koa/router')
    const app = new Koa()
    const router = new Router()
    router.get('/data', (ctx) => {
      ctx.body = payload
    })
    app.use(router.routes())
    return http.createServer(app.callback())
  },
  async 'koa-cash'() {
    const { default: Koa } = await import('koa')
    const { default: Router } = await import('@koa/router')
    const { default: koaCash } = await import('koa-cash')
    const app = new Koa()
    const store = new Map()
    app.use(
      koaCash({
        get: async (key) => store.get(key),
        set: async (key, value) => void store.set(key, value),
      })
    )
    const router = new Router()
    router.get(route, async (ctx) => {
      if (await ctx.cashed(300_000)) return
      ctx.body = payload
    })
    app.use(router.routes())
    return http.createServer(app.callback())
  },
  async 'cachewire-koa'(store) {
    const { default: Koa } = await import('koa')
    const { default: Router } = await import('@koa/router')
    const { cacheMiddleware } = await import('@cachewire/koa')
    const app = new Koa()
    app.use(cacheMiddleware({ ttl: '5m', storage: { store }, ...safety }))
    const router = new Router()
    router.get(route, (ctx) => {
      ctx.body = payload
    })
    app.use(router.routes())
    return http.createServer(app.callback())
  },
  async 'cachewire-koa-front'(store) {
    const { default: Koa } = await import('koa')
    const { default: Router } = await import('@koa/router')
    const { responseCache } = await import('@cachewire/koa')
    const app = new Koa()
    const cache = responseCache({ ttl: '5m', storage: { store }, ...safety })
    app.use(cache.middleware())
    const router = new Router()
    router.get(route, (ctx) => {
      ctx.body = payload
    })
    app.use(router.routes())
    return http.createServer(cache.frontDoor(app))
  },
  async 'fastify-floor'() {
    const { default: Fastify } = await import('fastify')
    const app = Fastify()
    const body = Buffer.from(payloadText)
    app.get(
      '/data',
      (request, reply) => void reply.type('application/json; charset=utf-8').send(body)
    )
    await app.ready()
    return http.createServer((req, res) => app.routing(req, res))
  },
  async 'fastify-constant'() {
    const { default: Fastify } = await import('fastify')
    const app = Fastify()
    app.get('/data', async () => payload)
    await app.ready()
    return http.createServer((req, res) => app.routing(req, res))
  },
  async 'cachewire-fastify'(store) {
    const { default: Fastify } = await import('fastify')
    const { cachePlugin } = await import('@cachewire/fastify')
    const app = Fastify()
    await app.register(cachePlugin, { ttl: '5m', storage: { store }, ...safety })
    app.get(route, async () => payload)
    await app.ready()
    return http.createServer((req, res) => app.routing(req, res))
  },
  async 'cachewire-fastify-front'(store) {
    const { default: Fastify } = await import('fastify')
    const { responseCache } = await import('@cachewire/fastify')
    const app = Fastify()
    const cache = responseCache({ ttl: '5m', storage: { store }, ...safety })
    await app.register(cache.plugin)
    app.get(route, async () => payload)
    await app.ready()
    return http.createServer(cache.frontDoor(app))
  },
  async 'cachewire-koa-redis'() {
    return variants['cachewire-koa'](await redisStore())
  },
  async 'cachewire-koa-front-redis'() {
    return variants['cachewire-koa-front'](await redisStore())
  },
  async 'cachewire-koa-front-ioredis6'() {
    return variants['cachewire-koa-front'](await redisStore(ioredis6Client))
  },
  async 'cachewire-koa-front-node-redis'() {
    return variants['cachewire-koa-front'](await redisStore(nodeRedisClient))
  },
  async 'cachewire-koa-front-tiered'() {
    return variants['cachewire-koa-front'](await tieredStore())
  },
}

const build = variants[manyKeys ? variant.replace(/-(zipf|miss)$/, '') : variant]
if (build === undefined) {
  console.error(`unknown variant ${variant}; one of: ${Object.keys(variants).join(', ')}`)
  process.exit(2)
}
// With 10,000 keys (or a new key per request) the default 64 MiB MemoryStore would hold only
// ~1,300 entries of 50 KB, while apicache and koa-cash keep everything: a -zipf or -miss variant
// gets a store roomy enough for all its keys, so the comparison is hit against hit.
async function roomyStore() {
  const { MemoryStore } = await import('@cachewire/core')
  return new MemoryStore({ maxBytes: Math.max(64 * 2 ** 20, 10_000 * (bodyBytes + 4096)) })
}
const server = await build(manyKeys ? await roomyStore() : undefined)
server.keepAliveTimeout = 60_000
// PORT=0 takes a free port: the parent learns which from the message (a fixed range once ran
// into a local MariaDB's 3306).
server.listen(port, '127.0.0.1', () => {
  const bound = server.address().port
  if (process.send) process.send({ listening: bound })
  else console.log(`${variant} on ${bound}`)
})
// One handler, so the exit cannot race a Redis variant's clean-up and leave its keys behind.
process.on('SIGTERM', () => {
  server.close()
  server.closeAllConnections?.()
  void Promise.allSettled(beforeExit.map((run) => run())).finally(() => process.exit(0))
})
// SIGINT exits at once (and lets --cpu-prof write its profile).
process.on('SIGINT', () => process.exit(0))
if (process.env.EXIT_AFTER_MS) setTimeout(() => process.exit(0), Number(process.env.EXIT_AFTER_MS))
