/**
 * Test helpers: real Fastify 4 and 5 apps listening on 127.0.0.1:0, plain node:http requests,
 * the two stores (memory, and Redis at REDIS_URL), and a manual clock.
 *
 * No Redis means a loud skip of the Redis cases, or a failure under CI=true (DESIGN.md).
 */
import { randomBytes } from 'node:crypto'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import Fastify5, {
  type FastifyInstance,
  type FastifyPluginCallback,
  type FastifyServerOptions,
} from 'fastify'
import Fastify4 from 'fastify4'
import compress5 from '@fastify/compress'
import compress4 from 'fastify-compress7'
import { Redis } from 'ioredis'
import { MemoryStore, type Store } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { afterAll } from 'vitest'

export interface FastifyVersion {
  fastify: string
  create(options?: FastifyServerOptions): FastifyInstance
  /** @fastify/compress for this major (7 for Fastify 4, 8 for Fastify 5). */
  compress: FastifyPluginCallback<{ threshold?: number }>
}

/** Both Fastify majors, as factories of apps. */
export const FASTIFY_VERSIONS: readonly FastifyVersion[] = [
  {
    fastify: 'fastify 5',
    create: (options) => Fastify5(options),
    compress: compress5 as unknown as FastifyVersion['compress'],
  },
  {
    fastify: 'fastify 4',
    create: (options) => (Fastify4 as unknown as typeof Fastify5)(options),
    compress: compress4 as unknown as FastifyVersion['compress'],
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
  const prefix = `cw-test:fastify-${file}:${process.pid}:${randomBytes(4).toString('hex')}:`
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

/** Every Fastify major crossed with every store, for describe.each. */
export async function matrix(
  file: string
): Promise<Array<FastifyVersion & { store: string; createStore: () => Store }>> {
  const stores = await storeKinds(file)
  return FASTIFY_VERSIONS.flatMap((version) =>
    stores.map((kind) => ({ ...version, store: kind.store, createStore: kind.create }))
  )
}

/** Starts an app on 127.0.0.1:0 and closes it (with its keep-alive sockets) after the file. */
export async function listen(app: FastifyInstance): Promise<{ url: string; port: number }> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  afterAll(() => app.close())
  const { port } = app.server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, port }
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
