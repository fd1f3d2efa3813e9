// Logout that sticks: an Express app and a Koa app check bearer tokens against a revocation list
// of @cachewire/core. Revoked tokens are kept as SHA-256 hashes until they would have expired; a
// check the store cannot answer fails closed (503). At start, a cache of user profiles is warmed
// with a progress bar. On memory by default; with REDIS_URL a second list (another process, as far
// as it knows) shares the revocations through RedisRevocationSync and sees each at once.
//   pnpm --filter example-token-revocation start     (EXIT_AFTER_DEMO=1 to stop after the demo)
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createServer, type Server } from 'node:http'
import express from 'express'
import Koa from 'koa'
import { Redis } from 'ioredis'
import { Cache, revocations, type RevocationList } from '@cachewire/core'
import { RedisRevocationSync, RedisStore } from '@cachewire/core/redis'
import { bearer, expressRevocation, koaRevocation } from './middleware.js'

const redisUrl = process.env.REDIS_URL
const clients = redisUrl === undefined ? [] : [new Redis(redisUrl), new Redis(redisUrl)]
function list(client: Redis | undefined): RevocationList {
  if (client === undefined) return revocations(new Cache().namespace('revoked'))
  const cache = new Cache({ store: new RedisStore({ client, prefix: 'example-revocation:' }) })
  return revocations(cache.namespace('revoked'), {
    sync: new RedisRevocationSync({ client, channel: 'example-revocation:sync' }),
  })
}
const revoked = list(clients[0])
const peer = clients[1] === undefined ? undefined : list(clients[1])
await Promise.all([revoked.start(), peer?.start()])

// A pretend token issuer: opaque tokens that expire in an hour.
const sessions = new Map<string, { user: number; expiresAt: number }>()
function login(user: number): string {
  const token = randomBytes(24).toString('base64url')
  sessions.set(token, { user, expiresAt: Date.now() + 3_600_000 })
  return token
}

// Warm the profile cache before taking traffic, 8 loads at a time, at most 400 a second.
const profiles = new Cache({ defaultTtl: '10m' }).namespace('profiles')
const loadProfile = async (id: number) => (
  await new Promise((resolve) => setTimeout(resolve, 2)),
  { id, name: `user ${id}` }
)
const warming = profiles.warm(
  Array.from({ length: 200 }, (_, i) => ({ key: String(i + 1), load: () => loadProfile(i + 1) })),
  { concurrency: 8, perSecond: 400 }
)
warming.on('progress', ({ done, total = 0 }) => {
  const width = 30
  const filled = Math.round((done / total) * width)
  process.stdout.write(
    `\rwarming profiles [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}`
  )
})
const warmed = await warming.result
process.stdout.write(
  `\nwarmed: ${warmed.loaded} loaded, ${warmed.failed} failed in ${warmed.elapsedMs.toFixed(0)} ms\n`
)

const tokenOf = (authorization: string | undefined) => bearer(authorization)

const app = express()
app.use(expressRevocation(revoked, (req) => tokenOf(req.headers.authorization)))
app.get('/me', async (req, res) => {
  const session = sessions.get(tokenOf(req.headers.authorization) ?? '')
  if (session === undefined) return void res.status(401).end('Unauthorized')
  res.json(await profiles.get(String(session.user)))
})
app.post('/logout', async (req, res) => {
  const token = tokenOf(req.headers.authorization) ?? ''
  const session = sessions.get(token)
  if (session !== undefined) await revoked.revoke(token, { until: session.expiresAt })
  res.status(204).end()
})

const koa = new Koa()
koa.use(koaRevocation(revoked, (ctx) => tokenOf(ctx.get('authorization') || undefined)))
koa.use(async (ctx) => {
  const token = tokenOf(ctx.get('authorization') || undefined) ?? ''
  const session = sessions.get(token)
  if (session === undefined) {
    ctx.status = 401
    return
  }
  if (ctx.method === 'POST' && ctx.path === '/logout') {
    await revoked.revoke(token, { until: session.expiresAt })
    ctx.status = 204
    return
  }
  ctx.body = await profiles.get(String(session.user))
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
  `express on ${expressUrl}, koa on ${koaUrl}, store: ${redisUrl === undefined ? 'memory' : 'redis, with a second list sharing revocations'}`
)

for (const [name, url] of [
  ['express', expressUrl],
  ['koa', koaUrl],
] as const) {
  const token = login(name === 'express' ? 7 : 8)
  const auth = { authorization: `Bearer ${token}` }
  const before = await fetch(`${url}/me`, { headers: auth })
  console.log(`${name.padEnd(7)} GET /me before logout: ${before.status} ${await before.text()}`)
  await fetch(`${url}/logout`, { method: 'POST', headers: auth })
  const after = await fetch(`${url}/me`, { headers: auth })
  console.log(`${name.padEnd(7)} GET /me after logout:  ${after.status} ${await after.text()}`)
  if (peer !== undefined)
    console.log(`${name.padEnd(7)} the other list says revoked: ${await peer.isRevoked(token)}`)
}

if (process.env.EXIT_AFTER_DEMO === '1') {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  await Promise.all([revoked.close(), peer?.close()])
  for (const client of clients) client.disconnect()
}
