/**
 * Test helpers: real Express 4 and 5 apps on 127.0.0.1:0, plain node:http requests, the two
 * stores (memory, and Redis at REDIS_URL), and a manual clock.
 *
 * No Redis means a loud skip of the Redis cases, or a failure under CI=true (DESIGN.md).
 */
import { randomBytes } from 'node:crypto'
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import type { Express, Router } from 'express'
import express5 from 'express'
import express4 from 'express4'
import { Redis } from 'ioredis'
import { MemoryStore, type Store } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { afterAll } from 'vitest'

/** Both Express majors, as factories of apps. */
export const EXPRESS_VERSIONS: ReadonlyArray<{
  express: string
  create: () => Express
  router: () => Router
}> = [
  { express: 'express 5', create: () => express5(), router: () => express5.Router() },
  {
    express: 'express 4',
    create: () => (express4 as unknown as () => Express)(),
    router: () => (express4 as unknown as typeof express5).Router(),
  },
]

export interface StoreKind {
  store: string
  create: () => Store
}

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379'

/**
 * The stores every scenario runs on. Redis is probed once per file; its keys live under a prefix
 * unique to the file (and a counter per store), deleted in afterAll.
 */
export async function storeKinds(file: string): Promise<StoreKind[]> {
  const kinds: StoreKind[] = [{ store: 'memory', create: () => new MemoryStore() }]
  const problem = await probeRedis()
  if (problem !== undefined) {
    const message = `Redis at ${REDIS_URL} is unreachable (${problem}): the Redis cases of ${file} are SKIPPED`
    if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires Redis`)
    console.error(`\n!!! ${message}\n`)
    return kinds
  }
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  const prefix = `cw-test:express-${file}:${process.pid}:${randomBytes(4).toString('hex')}:`
  let count = 0
  afterAll(async () => {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await client.unlink(...keys)
    } while (cursor !== '0')
    await client.quit()
  })
  // Generous deadlines: a loaded test machine must not turn reads into misses.
  kinds.push({
    store: 'redis',
    create: () => new RedisStore({ client, prefix: `${prefix}${++count}:`, timeout: '2s' }),
  })
  return kinds
}

async function probeRedis(): Promise<string | undefined> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  } finally {
    client.disconnect()
  }
}

/** Every Express major crossed with every store, for describe.each. */
export async function matrix(file: string): Promise<
  Array<{
    express: string
    store: string
    create: () => Express
    router: () => Router
    createStore: () => Store
  }>
> {
  const stores = await storeKinds(file)
  return EXPRESS_VERSIONS.flatMap((version) =>
    stores.map((kind) => ({ ...version, store: kind.store, createStore: kind.create }))
  )
}

export interface Listening {
  url: string
  port: number
  server: Server
  close(): Promise<void>
}

/** Starts an app on 127.0.0.1:0 and closes it (and its keep-alive sockets) after the file. */
export async function listen(app: Express): Promise<Listening> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  const { port } = server.address() as AddressInfo
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  afterAll(close)
  return { url: `http://127.0.0.1:${port}`, port, server, close }
}

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  /** Raw bytes as received (still gzip when the response is). */
  raw: Buffer
  /** The body as text, gunzipped when Content-Encoding says gzip. */
  text: string
}

export interface RequestOptions {
  method?: string
  headers?: Record<string, string | string[]>
  body?: string
}

/** One request over a fresh connection (no agent), so nothing is shared between requests. */
export function request(base: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const raw = Buffer.concat(chunks)
          const gzip = res.headers['content-encoding'] === 'gzip' && raw.length > 0
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            raw,
            text: (gzip ? gunzipSync(raw) : raw).toString('utf8'),
          })
        })
      }
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** A clock the engine reads; tests move it instead of sleeping. */
export function manualClock(start = Date.now()): {
  now: () => number
  advance: (ms: number) => void
} {
  let current = start
  return { now: () => current, advance: (ms) => void (current += ms) }
}

/** Lets the server's 'finish' handlers run, then waits for the cache's background work. */
export async function settle(cache: { whenIdle(): Promise<void> }): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 5))
  await cache.whenIdle()
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
