/**
 * The attack suite's seam: one neutral app (a lax router that reflects what an app commonly
 * reads) mounted behind `cacheMiddleware` on Express 4/5 and Koa 2/3 and `cachePlugin` on Fastify 4/5, over a memory store or a
 * real Redis under a unique prefix. Every vector runs against every target.
 *
 * The handler is deliberately naive — it trusts forwarded headers, reads a GET body, splits the
 * query on `;`, matches `/me` by prefix and case-insensitively, marks most things `public` — so a
 * test passes only because the cache itself refused to share what it must not share.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import express from 'express'
import express4 from 'express4'
import type { Request, Response, NextFunction } from 'express'
import Koa from 'koa'
import Koa2 from 'koa2'
import type { Context } from 'koa'
import Fastify, { type FastifyRequest } from 'fastify'
import Fastify4 from 'fastify4'
import type { Redis } from 'ioredis'
import { Cache } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { cacheMiddleware as expressCache } from '@cachewire/express'
import { cacheMiddleware as koaCache } from '@cachewire/koa'
import { cachePlugin as fastifyCache } from '@cachewire/fastify'
import type { HttpCache } from '@cachewire/http'
import { afterAll, beforeAll, describe } from 'vitest'
import { listen, request, type RequestOptions, type TestResponse } from '../helpers/servers.js'
import { createClient, deleteKeysWithPrefix, describeRedis, uniquePrefix } from '../setup/redis.js'

export type FrameworkName =
  'express 5' | 'express 4' | 'koa 3' | 'koa 2' | 'fastify 5' | 'fastify 4'
export type StoreName = 'memory' | 'redis'

/** The host every app allows (`hosts` option) and every request sends unless a test says otherwise. */
export const HOST = 'example.com'

/** What the neutral handler is told, the same for every framework. */
export interface HandlerInput {
  method: string
  /** The target as the framework holds it (`originalUrl`), verbatim. */
  url: string
  /** The host the framework resolved (`req.host`/`ctx.host`, trust proxy honoured). */
  host: string
  protocol: string
  headers: IncomingMessage['headers']
  /** The framework's own query parsing (`req.query`, `ctx.query`). */
  query: unknown
  /** The raw request body, read like a handler that accepts one on GET would. */
  body: string
}

export interface HandlerOutput {
  status?: number
  headers?: Record<string, string | string[]>
  body: string
  delayMs?: number
}

/** The user a request claims: `sid=<id>` cookie or `Bearer <id>`; undefined when anonymous. */
export function userOf(headers: IncomingMessage['headers']): string | undefined {
  const auth = headers.authorization
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7)
  const cookie = headers.cookie
  const match = typeof cookie === 'string' ? /(?:^|;\s*)sid=([^;]*)/.exec(cookie) : null
  return match?.[1] || undefined
}

/** A query parser that, like some frameworks, also splits on `;` (parameter cloaking). */
export function laxQuery(url: string): Record<string, string> {
  const question = url.indexOf('?')
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  if (question === -1) return out
  for (const member of url.slice(question + 1).split(/[&;]/)) {
    if (member === '') continue
    const eq = member.indexOf('=')
    const name = eq === -1 ? member : member.slice(0, eq)
    try {
      out[decodeURIComponent(name)] = decodeURIComponent(
        (eq === -1 ? '' : member.slice(eq + 1)).replace(/\+/g, ' ')
      )
    } catch {
      out[name] = member
    }
  }
  return out
}

let setCookieRuns = 0

/**
 * The app every vector attacks. Paths:
 * - `/reflect`: everything an app might read that the key may not cover, as JSON, public.
 * - `/me…` (prefix, any case): the caller's private page, no Cache-Control (a `ttl` makes it storable).
 * - `/set-cookie`: a new session cookie each run, public.
 * - `/user`: who the caller is (after `?delay=ms`), max-age without public.
 * - `/whoami`: who the caller is, marked public (a personal page declared shareable).
 * - `/must-revalidate`: who the caller is, `must-revalidate` alone (RFC 9111 §3.5 lets it be shared).
 * - `/private-etag`: the caller's page with a per-user ETag, private.
 * - `/vary-lang`: Vary: Accept-Language.
 * - `/big-headers`: a 12 KB header line, public.
 * - anything else: the path and query, public.
 */
export function neutralHandler(input: HandlerInput): HandlerOutput {
  // An absolute-form target (`http://host/path`) routes like its path, as Express and Koa do.
  const path = (input.url.replace(/^https?:\/\/[^/?#]*/i, '') || '/').split(/[?#]/)[0] ?? ''
  const pub = {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'public, max-age=300',
  }
  const user = userOf(input.headers)
  if (path === '/reflect') {
    const h = input.headers
    const reflected = {
      host: input.host,
      protocol: input.protocol,
      url: h['x-original-url'] ?? h['x-rewrite-url'] ?? input.url,
      method: h['x-http-method-override'] ?? input.method,
      xForwardedHost: h['x-forwarded-host'],
      xForwardedProto: h['x-forwarded-proto'],
      forwarded: h.forwarded,
      query: input.query,
      lax: laxQuery(input.url),
      body: input.body,
      link: `${input.protocol}://${(h['x-forwarded-host'] as string | undefined) ?? input.host}/next`,
    }
    return {
      headers: { ...pub, 'content-type': 'application/json' },
      body: JSON.stringify(reflected),
    }
  }
  if (/^\/me/i.test(path)) {
    // No Cache-Control, as most apps write it: the cache's `ttl` would make it storable.
    return {
      headers: { 'content-type': 'text/plain' },
      body: user === undefined ? 'anonymous' : `PRIVATE page of ${user}`,
    }
  }
  if (path === '/set-cookie') {
    setCookieRuns++
    return {
      headers: { ...pub, 'set-cookie': `session=secret-${setCookieRuns}; HttpOnly` },
      body: 'welcome',
    }
  }
  if (path === '/user') {
    const delay = Number(/[?&]delay=(\d+)/.exec(input.url)?.[1] ?? 0)
    return {
      headers: { 'content-type': 'text/plain', 'cache-control': 'max-age=300' },
      body: `user:${user ?? 'anonymous'}`,
      delayMs: delay,
    }
  }
  if (path === '/whoami') {
    return { headers: pub, body: `user:${user ?? 'anonymous'}` }
  }
  if (path === '/must-revalidate') {
    return {
      headers: { 'content-type': 'text/plain', 'cache-control': 'must-revalidate' },
      body: `user:${user ?? 'anonymous'}`,
    }
  }
  if (path === '/private-etag') {
    return {
      headers: {
        'content-type': 'text/plain',
        'cache-control': 'private, max-age=300',
        etag: `"${user ?? 'anonymous'}-v1"`,
      },
      body: `user:${user ?? 'anonymous'}`,
    }
  }
  if (path === '/big-headers') {
    return { headers: { ...pub, 'x-big': 'a'.repeat(12_000) }, body: 'big' }
  }
  if (path === '/vary-lang') {
    const lang = String(input.headers['accept-language'] ?? '')
    return { headers: { ...pub, vary: 'Accept-Language' }, body: `lang:${lang}` }
  }
  return { headers: pub, body: `path:${input.url}` }
}

/** Cache options as the suite passes them: the engine's (grouped), with a framework-neutral `safety.privateKey`. */
export interface SuiteCacheOptions extends Record<string, unknown> {
  safety?: Record<string, unknown> & {
    privateKey?: (headers: IncomingMessage['headers']) => string | undefined
  }
  storage?: Record<string, unknown>
  keys?: Record<string, unknown>
  observability?: Record<string, unknown>
}

/** The options with `safety.privateKey` reading the framework's request through `headersOf`. */
function frameworkOptions<R>(
  options: SuiteCacheOptions,
  headersOf: (request: R) => IncomingMessage['headers']
): Record<string, unknown> {
  const privateKey = options.safety?.privateKey
  if (privateKey === undefined) return options
  return {
    ...options,
    safety: { ...options.safety, privateKey: (request: R) => privateKey(headersOf(request)) },
  }
}

export interface SecurityApp {
  url: string
  port: number
  engine: HttpCache
  /** Handler runs per path (without query). */
  runs: Map<string, number>
  whenIdle(): Promise<void>
  /** The Redis prefix entries live under, on the redis store. */
  prefix: string | undefined
  close(): Promise<void>
}

export interface Target {
  framework: FrameworkName
  store: StoreName
  /** Builds and starts an app; `trustProxy` sets Express `trust proxy` / Koa `app.proxy`. */
  app(options?: SuiteCacheOptions, settings?: { trustProxy?: boolean }): Promise<SecurityApp>
  /** The Redis client of this target (redis store only). */
  redis(): Redis
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', () => resolve(''))
    // Some frameworks have already consumed nothing; a request without a body ends at once.
    if (req.readableEnded) resolve('')
  })
}

function count(runs: Map<string, number>, url: string): void {
  const path = url.split('?')[0] ?? ''
  runs.set(path, (runs.get(path) ?? 0) + 1)
}

async function buildExpress(
  factory: typeof express,
  options: SuiteCacheOptions,
  trustProxy: boolean,
  runs: Map<string, number>
) {
  const app = factory()
  app.set('etag', false)
  app.disable('x-powered-by')
  if (trustProxy) app.set('trust proxy', true)
  const cache = expressCache(frameworkOptions<Request>(options, (req) => req.headers))
  app.use(cache)
  app.use((req: Request, res: Response, next: NextFunction) => {
    void (async () => {
      count(runs, req.originalUrl)
      const body = await readBody(req)
      // Express 5's req.host (host and port, trust proxy honoured), written out for Express 4 too.
      const forwarded = trustProxy
        ? String(req.headers['x-forwarded-host'] ?? '')
            .split(',')[0]
            ?.trim()
        : ''
      const host = forwarded || (req.headers.host ?? '')
      const out = neutralHandler({
        method: req.method,
        url: req.originalUrl,
        host,
        protocol: req.protocol,
        headers: req.headers,
        query: req.query,
        body,
      })
      if (out.delayMs) await sleep(out.delayMs)
      res.status(out.status ?? 200)
      for (const [name, value] of Object.entries(out.headers ?? {})) res.setHeader(name, value)
      res.end(out.body)
    })().catch(next)
  })
  return { listener: app, cache }
}

function buildKoa(
  KoaClass: typeof Koa,
  options: SuiteCacheOptions,
  trustProxy: boolean,
  runs: Map<string, number>
) {
  const app = new KoaClass()
  app.silent = true
  app.proxy = trustProxy
  const cache = koaCache(frameworkOptions<Context>(options, (ctx) => ctx.req.headers))
  app.use(cache)
  app.use(async (ctx: Context) => {
    count(runs, ctx.originalUrl)
    const body = await readBody(ctx.req)
    const out = neutralHandler({
      method: ctx.method,
      url: ctx.originalUrl,
      host: ctx.host,
      protocol: ctx.protocol,
      headers: ctx.req.headers,
      query: ctx.query,
      body,
    })
    if (out.delayMs) await sleep(out.delayMs)
    ctx.status = out.status ?? 200
    for (const [name, value] of Object.entries(out.headers ?? {})) ctx.set(name, value)
    ctx.body = out.body
  })
  return { listener: app, cache }
}

async function buildFastify(
  factory: typeof Fastify,
  options: SuiteCacheOptions,
  trustProxy: boolean,
  runs: Map<string, number>
) {
  const app = factory({ trustProxy })
  // Bodies of any type (a GET's too) reach the handler unread, as in Express and Koa.
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined))
  await app.register(
    fastifyCache,
    frameworkOptions<FastifyRequest>(options, (request) => request.headers)
  )
  app.all('*', async (request, reply) => {
    count(runs, request.originalUrl)
    const body = await readBody(request.raw)
    // Fastify 5's request.host, Fastify 4's request.hostname (both with the port, trustProxy honoured).
    const host = (request as { host?: string }).host ?? request.hostname
    const out = neutralHandler({
      method: request.raw.method ?? 'GET',
      url: request.originalUrl,
      host,
      protocol: request.protocol,
      headers: request.headers,
      query: request.query,
      body,
    })
    if (out.delayMs) await sleep(out.delayMs)
    reply.code(out.status ?? 200)
    for (const [name, value] of Object.entries(out.headers ?? {})) reply.header(name, value)
    return reply.send(out.body)
  })
  await app.ready()
  return {
    listener: (req: IncomingMessage, res: ServerResponse) => app.routing(req, res),
    cache: app.responseCache,
  }
}

function makeTarget(
  framework: FrameworkName,
  store: StoreName
): Target & { cleanup(): Promise<void> } {
  let client: Redis | undefined
  const prefixes: string[] = []
  const redis = (): Redis => (client ??= createClient())
  return {
    framework,
    store,
    redis,
    async app(options = {}, settings = {}) {
      const runs = new Map<string, number>()
      let prefix: string | undefined
      let cache = options.storage?.['cache']
      if (store === 'redis' && cache === undefined) {
        prefix = uniquePrefix(`security-${framework.replace(' ', '')}`)
        prefixes.push(prefix)
        // These suites test isolation, not deadlines (redis-breakers and the fault suites do):
        // a 2 s deadline keeps a loaded CI machine from dropping a write the test then reads back.
        cache = new Cache({ store: new RedisStore({ client: redis(), prefix, timeout: '2s' }) })
      } else if (cache === undefined) {
        cache = new Cache()
      }
      const engineOptions: SuiteCacheOptions = {
        ...options,
        keys: { hosts: [HOST, `*.${HOST}`], ...options.keys },
        observability: { debug: true, ...options.observability },
        storage: { ...options.storage, cache },
      }
      const trust = settings.trustProxy ?? false
      const built =
        framework === 'express 5'
          ? await buildExpress(express, engineOptions, trust, runs)
          : framework === 'express 4'
            ? await buildExpress(express4 as unknown as typeof express, engineOptions, trust, runs)
            : framework === 'fastify 5'
              ? await buildFastify(Fastify, engineOptions, trust, runs)
              : framework === 'fastify 4'
                ? await buildFastify(
                    Fastify4 as unknown as typeof Fastify,
                    engineOptions,
                    trust,
                    runs
                  )
                : buildKoa(
                    framework === 'koa 3' ? Koa : (Koa2 as unknown as typeof Koa),
                    engineOptions,
                    trust,
                    runs
                  )
      const listening = await listen(built.listener as Parameters<typeof listen>[0])
      return {
        url: listening.url,
        port: listening.port,
        engine: built.cache.engine,
        runs,
        whenIdle: () => built.cache.whenIdle(),
        prefix,
        close: listening.close,
      }
    },
    async cleanup() {
      if (client === undefined) return
      for (const prefix of prefixes) await deleteKeysWithPrefix(client, prefix)
    },
  }
}

/** Every framework version; `cheap: false` limits a heavy vector to the current majors. */
export const FRAMEWORKS: readonly FrameworkName[] = [
  'express 5',
  'express 4',
  'koa 3',
  'koa 2',
  'fastify 5',
  'fastify 4',
]
export const CURRENT: readonly FrameworkName[] = ['express 5', 'koa 3', 'fastify 5']

/**
 * Runs `body` once per framework and store: `describe('<framework> on <store>')`, the Redis ones
 * through describeRedis (loud skip without Redis, failure under CI=true).
 */
export function eachTarget(
  body: (target: Target) => void,
  frameworks: readonly FrameworkName[] = FRAMEWORKS,
  stores: readonly StoreName[] = ['memory', 'redis']
): void {
  for (const store of stores) {
    for (const framework of frameworks) {
      const target = makeTarget(framework, store)
      const block = (): void => {
        // Made outside any test, so the client lives until the file ends (setup/cleanup.ts).
        if (store === 'redis') beforeAll(() => void target.redis())
        afterAll(() => target.cleanup())
        body(target)
      }
      if (store === 'redis') describeRedis(`${framework} on redis`, block)
      else describe(`${framework} on memory`, block)
    }
  }
}

/** One request to an app, with Host: example.com unless the test sets one. */
export function send(
  app: SecurityApp,
  target: string,
  options: RequestOptions = {}
): Promise<TestResponse> {
  return request(app.url, { ...options, target, headers: { host: HOST, ...options.headers } })
}

/** The Cache-Status header, '' when absent. */
export function cacheStatus(res: TestResponse): string {
  const value = res.headers['cache-status']
  return Array.isArray(value) ? value.join(', ') : (value ?? '')
}

/** True when the response came from the cache. */
export function isHit(res: TestResponse): boolean {
  return /;\s*hit\b/.test(cacheStatus(res))
}

/** Keys under `prefix` on the target's Redis (SCAN, never KEYS). */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = []
  const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`
  for await (const keys of client.scanStream({ match, count: 500 }) as AsyncIterable<string[]>)
    found.push(...keys)
  return found
}

/**
 * What a miss the engine stores says in Cache-Status on this target: `stored`, except that
 * Fastify writes its head before the body, and on Redis the write's outcome is not known then,
 * so the field is left out (the entry is written all the same before the response ends).
 */
export function storedMiss(target: Target): RegExp {
  return target.store === 'redis' && target.framework.startsWith('fastify')
    ? /fwd=(?:uri-miss|vary-miss|stale|request); fwd-status=\d+/
    : /stored/
}
