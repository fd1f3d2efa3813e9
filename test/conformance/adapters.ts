/**
 * The conformance seam: one `createApp(routes, cacheOptions)` per framework version, each mapping
 * the suite's neutral routes onto the framework the way an app would write them, with the
 * framework's cache in front: `responseCache(options).middleware(rules)`, or its thin form
 * `cacheMiddleware(options)` (Express 4, Koa 2), which must behave the same. Framework defaults that are not the cache's business
 * (Express's own weak ETag and X-Powered-By) are switched off, so headers compare across adapters.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import express from 'express'
import express4 from 'express4'
import type { Request, Response, NextFunction } from 'express'
import Koa from 'koa'
import Koa2 from 'koa2'
import type { Context } from 'koa'
import Router from '@koa/router'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import Fastify4 from 'fastify4'
import {
  cacheMiddleware as expressMiddleware,
  responseCache as expressCache,
} from '@cachewire/express'
import { cacheMiddleware as koaMiddleware, responseCache as koaCache } from '@cachewire/koa'
import { cachePlugin as fastifyPlugin, responseCache as fastifyCache } from '@cachewire/fastify'
import { InvalidOptionError } from '@cachewire/http'
import {
  behaviourOf,
  routeId,
  type Adapter,
  type Behaviour,
  type BuiltApp,
  type RouteSpec,
} from './suite.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The stream a `{ chunks }` body becomes, the same for every framework. */
function chunkStream(chunks: readonly string[], delayMs = 0): Readable {
  return Readable.from(
    (async function* body(): AsyncGenerator<Buffer> {
      for (const chunk of chunks) {
        if (delayMs > 0) await sleep(delayMs)
        yield Buffer.from(chunk)
      }
    })()
  )
}

/** Counts the run and waits out the behaviour's delay; throws when it says so. */
async function start(
  route: RouteSpec,
  calls: Map<string, number>,
  headers: IncomingMessage['headers'],
  clock: () => number,
  target: { url?: string; query?: unknown } = {}
): Promise<Behaviour> {
  const id = routeId(route)
  const call = (calls.get(id) ?? 0) + 1
  calls.set(id, call)
  const behaviour = behaviourOf(route, { call, headers, now: clock(), ...target })
  if (behaviour.delayMs !== undefined) await sleep(behaviour.delayMs)
  if (behaviour.throws === true) throw new Error(`${id} failed on purpose`)
  return behaviour
}

// ---------------------------------------------------------------------------------------------
// Express 4 and 5

type ExpressFactory = typeof express

/**
 * With a front door, fresh hits are answered before the framework runs; every scenario must
 * still pass unchanged. A cache whose key or rules need the framework request has no front door
 * (`frontDoor` refuses it at build time), and the scenario runs on the middleware alone.
 */
function withFrontDoor<T>(build: () => T, fallback: T): T {
  try {
    return build()
  } catch (error) {
    if (
      error instanceof InvalidOptionError &&
      ['keys.key', 'safety.privateKey', 'include'].includes(error.option)
    )
      return fallback
    throw error
  }
}

/** The scenario's options, split into the cache's and the middleware's path rules. */
function split(options: Record<string, unknown>): {
  cache: Record<string, unknown>
  rules: { include?: never; exclude?: never }
} {
  const { include, exclude, ...cache } = options
  return { cache, rules: { include: include as never, exclude: exclude as never } }
}

function expressAdapter(
  name: string,
  factory: ExpressFactory,
  form: 'responseCache' | 'cacheMiddleware',
  frontDoor = false
): Adapter {
  return {
    name,
    createApp(routes, cacheOptions, { calls, clock }): BuiltApp {
      const app = factory()
      app.set('etag', false)
      app.disable('x-powered-by')
      const { cache: options, rules } = split(cacheOptions)
      const responseCache = expressCache(options)
      const cache =
        form === 'responseCache' ? responseCache.middleware(rules) : expressMiddleware(cacheOptions)
      app.use(cache)
      for (const route of routes) {
        const method = (route.method ?? 'GET').toLowerCase() as 'get' | 'post' | 'put' | 'delete'
        app[method](route.path, (req: Request, res: Response, next: NextFunction) => {
          answerExpress(route, req, res, calls, clock).catch(next)
        })
      }
      const listener = app as unknown as (req: IncomingMessage, res: ServerResponse) => void
      return {
        app: frontDoor
          ? withFrontDoor(() => responseCache.frontDoor(app, rules), listener)
          : listener,
        whenIdle: () => cache.whenIdle(),
        invalidateTags: async (tags) => (await cache.invalidateTags(tags)).removed,
      }
    },
  }
}

async function answerExpress(
  route: RouteSpec,
  req: Request,
  res: Response,
  calls: Map<string, number>,
  clock: () => number
): Promise<void> {
  const behaviour = await start(route, calls, req.headers, clock, {
    url: req.originalUrl,
    query: req.query,
  })
  if (behaviour.invalidateTags !== undefined)
    await req.cache?.invalidateTags(behaviour.invalidateTags)
  if (behaviour.purgeUrl !== undefined) await req.cache?.purgeUrl(behaviour.purgeUrl)
  res.status(behaviour.status ?? 200)
  for (const [name, value] of Object.entries(behaviour.headers ?? {})) res.setHeader(name, value)
  const body = behaviour.body ?? { empty: true }
  if ('text' in body) res.send(Buffer.from(body.text))
  else if ('json' in body) res.json(body.json)
  else if ('chunks' in body) chunkStream(body.chunks, body.delayMs).pipe(res)
  else res.end()
}

// ---------------------------------------------------------------------------------------------
// Koa 2 and 3

type KoaFactory = typeof Koa

function koaAdapter(
  name: string,
  KoaClass: KoaFactory,
  form: 'responseCache' | 'cacheMiddleware',
  frontDoor = false
): Adapter {
  return {
    name,
    createApp(routes, cacheOptions, { calls, clock }): BuiltApp {
      const app = new KoaClass()
      // Thrown handler errors are part of the script; Koa's default logger would only add noise.
      app.silent = true
      const { cache: options, rules } = split(cacheOptions)
      const responseCache = koaCache(options)
      const cache =
        form === 'responseCache' ? responseCache.middleware(rules) : koaMiddleware(cacheOptions)
      const router = new Router()
      app.use(cache)
      for (const route of routes) {
        const method = (route.method ?? 'GET').toLowerCase() as 'get' | 'post' | 'put' | 'delete'
        router[method](route.path, (ctx: Context) => answerKoa(route, ctx, calls, clock))
      }
      app.use(router.routes())
      return {
        app: frontDoor ? withFrontDoor(() => responseCache.frontDoor(app, rules), app) : app,
        whenIdle: () => cache.whenIdle(),
        invalidateTags: async (tags) => (await cache.invalidateTags(tags)).removed,
      }
    },
  }
}

async function answerKoa(
  route: RouteSpec,
  ctx: Context,
  calls: Map<string, number>,
  clock: () => number
): Promise<void> {
  const behaviour = await start(route, calls, ctx.req.headers, clock, {
    url: ctx.originalUrl,
    query: ctx.query,
  })
  if (behaviour.invalidateTags !== undefined)
    await ctx.cache?.invalidateTags(behaviour.invalidateTags)
  if (behaviour.purgeUrl !== undefined) await ctx.cache?.purgeUrl(behaviour.purgeUrl)
  ctx.status = behaviour.status ?? 200
  for (const [name, value] of Object.entries(behaviour.headers ?? {})) ctx.set(name, value)
  const body = behaviour.body ?? { empty: true }
  if ('text' in body) ctx.body = body.text
  else if ('json' in body) ctx.body = body.json
  else if ('chunks' in body) ctx.body = chunkStream(body.chunks, body.delayMs)
  else if (ctx.status !== 204 && ctx.status !== 304) ctx.body = ''
}

// ---------------------------------------------------------------------------------------------
// Fastify 4 and 5

type FastifyFactory = typeof Fastify

/**
 * The plugin, `responseCache(options).plugin` registered with the path rules, or its thin form
 * `cachePlugin` with every option; the front door as the app's `serverFactory`. Fastify boots
 * on the first request (`ready()`), as `listen()` would before serving.
 */
function fastifyAdapter(
  name: string,
  factory: FastifyFactory,
  form: 'responseCache' | 'cachePlugin',
  frontDoor = false
): Adapter {
  return {
    name,
    createApp(routes, cacheOptions, { calls, clock }): BuiltApp {
      const { cache: options, rules } = split(cacheOptions)
      const responseCache = form === 'responseCache' ? fastifyCache(options) : undefined
      const serverFactory =
        frontDoor && responseCache !== undefined
          ? withFrontDoor(() => responseCache.serverFactory(rules), undefined)
          : undefined
      const app: FastifyInstance = factory(serverFactory === undefined ? {} : { serverFactory })
      // POST bodies of any type reach the handler unread, as in the other frameworks.
      app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined))
      if (responseCache !== undefined) void app.register(responseCache.plugin, rules)
      else void app.register(fastifyPlugin, cacheOptions)
      for (const route of routes) {
        app.route({
          method: route.method ?? 'GET',
          url: route.path,
          handler: (request, reply) => answerFastify(route, request, reply, calls, clock),
        })
      }
      const cache = () => responseCache ?? app.responseCache
      const ready = app.ready()
      const listener = (req: IncomingMessage, res: ServerResponse): void => {
        // Through the server Fastify made (the front door's, when it has one), as a client's request goes.
        void ready.then(() => void app.server.emit('request', req, res))
      }
      return {
        app: listener,
        whenIdle: () => cache().whenIdle(),
        invalidateTags: async (tags) => (await cache().invalidateTags(tags)).removed,
      }
    },
  }
}

async function answerFastify(
  route: RouteSpec,
  request: FastifyRequest,
  reply: FastifyReply,
  calls: Map<string, number>,
  clock: () => number
): Promise<FastifyReply> {
  const behaviour = await start(route, calls, request.headers, clock, {
    url: request.originalUrl,
    query: request.query,
  })
  if (behaviour.invalidateTags !== undefined)
    await request.cache?.invalidateTags(behaviour.invalidateTags)
  if (behaviour.purgeUrl !== undefined) await request.cache?.purgeUrl(behaviour.purgeUrl)
  reply.code(behaviour.status ?? 200)
  for (const [name, value] of Object.entries(behaviour.headers ?? {})) reply.header(name, value)
  const body = behaviour.body ?? { empty: true }
  if ('text' in body) return reply.send(Buffer.from(body.text))
  if ('json' in body) return reply.send(body.json)
  if ('chunks' in body) return reply.send(chunkStream(body.chunks, body.delayMs))
  return reply.send()
}

/** Every framework version the adapters support. */
export const ADAPTERS: readonly Adapter[] = [
  expressAdapter('express 4', express4 as unknown as ExpressFactory, 'cacheMiddleware'),
  expressAdapter('express 5', express, 'responseCache'),
  koaAdapter('koa 2', Koa2 as unknown as KoaFactory, 'cacheMiddleware'),
  koaAdapter('koa 3', Koa, 'responseCache'),
  fastifyAdapter('fastify 4', Fastify4 as unknown as FastifyFactory, 'cachePlugin'),
  fastifyAdapter('fastify 5', Fastify, 'responseCache'),
  expressAdapter('express 5 + frontDoor', express, 'responseCache', true),
  koaAdapter('koa 3 + frontDoor', Koa, 'responseCache', true),
  fastifyAdapter('fastify 5 + frontDoor', Fastify, 'responseCache', true),
]
