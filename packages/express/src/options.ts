import type { Request } from 'express'
import { InvalidOptionError, type HttpCacheOptions, type HttpRequest } from '@cachewire/http'

/** Which requests a middleware caches: a path prefix (`'/api'`), a RegExp over the path, or a predicate. */
export type PathRule = string | RegExp | ((req: Request) => boolean)

/**
 * Engine options (see `@cachewire/http`), with `key` and `tags` taking the Express request, so
 * they can read `req.params`, `req.user` or anything else a middleware attached.
 */
export interface ExpressCacheOptions extends Omit<HttpCacheOptions, 'key' | 'tags' | 'privateKey'> {
  /**
   * The user id for `scope: 'private'`, e.g. `(req) => req.user?.id`; undefined for an anonymous
   * request (it bypasses). Only a SHA-256 hash of it reaches a key.
   */
  privateKey?: ((req: Request) => string | undefined) | undefined
  /**
   * Extra key material for a request (a tenant id, say); return false to not cache it. It runs
   * before the handler, so on `app.use` it sees no `req.params` (use `cachedRoute` for those).
   */
  key?: ((req: Request) => string | false | undefined) | undefined
  /** Tags for stored responses, for `invalidateTags`: a list, or a function of the request. */
  tags?: readonly string[] | ((req: Request) => readonly string[]) | undefined
}

/** Options of {@link cacheMiddleware}. */
export interface CacheMiddlewareOptions extends ExpressCacheOptions {
  /**
   * Only requests matching one of these rules use the cache; others pass through untouched.
   * Strings are path prefixes on segment boundaries (`'/api'` matches `/api` and `/api/users`,
   * not `/apis`), matched against the full path (`req.originalUrl` without the query).
   * @default every path
   */
  include?: PathRule | readonly PathRule[] | undefined
  /** Requests matching one of these rules pass through untouched; wins over `include`. @default none */
  exclude?: PathRule | readonly PathRule[] | undefined
}

/** Options of {@link cachedRoute}: the engine options, with `ttl`, `tags` and `key` the usual per-route ones. */
export type CachedRouteOptions = ExpressCacheOptions

/** Where the Express request rides along on the engine's request, for `key` and `tags`. */
export const kExpressRequest: unique symbol = Symbol('cachewire.express.request')

/** The engine's request with the Express request attached. */
export type ExpressHttpRequest = HttpRequest & { [kExpressRequest]?: Request }

/**
 * Turns Express-facing `key`/`tags` functions into the engine's (which take its neutral request).
 * Anything that is not a function is passed through for the engine to validate.
 */
export function toEngineOptions(options: ExpressCacheOptions): HttpCacheOptions {
  const { key, tags, privateKey, ...rest } = options as ExpressCacheOptions & { include?: unknown; exclude?: unknown }
  delete (rest as { include?: unknown }).include
  delete (rest as { exclude?: unknown }).exclude
  const engine: HttpCacheOptions = { ...rest }
  if (typeof key === 'function') engine.key = (request) => key(expressRequest(request))
  else if (key !== undefined) engine.key = key
  if (typeof tags === 'function') engine.tags = (request) => tags(expressRequest(request))
  else if (tags !== undefined) engine.tags = tags
  if (typeof privateKey === 'function') engine.privateKey = (request) => privateKey(expressRequest(request))
  else if (privateKey !== undefined) engine.privateKey = privateKey
  return engine
}

function expressRequest(request: HttpRequest): Request {
  const req = (request as ExpressHttpRequest)[kExpressRequest]
  if (req === undefined) throw new TypeError('cachewire: the engine called a key or tags function with a request it was not given')
  return req
}

/**
 * Compiles include/exclude rules once; the result answers "does this request use the cache?".
 * Throws `InvalidOptionError` naming the bad rule.
 */
export function compilePathRules(
  include: CacheMiddlewareOptions['include'],
  exclude: CacheMiddlewareOptions['exclude']
): ((req: Request) => boolean) | undefined {
  const included = include === undefined ? undefined : compileRules(include, 'include')
  const excluded = exclude === undefined ? undefined : compileRules(exclude, 'exclude')
  if (included === undefined && excluded === undefined) return undefined
  return (req) => {
    const path = pathOf(req.originalUrl)
    if (excluded?.some((rule) => rule(req, path)) === true) return false
    return included === undefined || included.some((rule) => rule(req, path))
  }
}

type CompiledRule = (req: Request, path: string) => boolean

function compileRules(value: PathRule | readonly PathRule[], name: string): CompiledRule[] {
  const list: readonly unknown[] = Array.isArray(value) ? value : [value]
  return list.map((rule, i) => compileRule(rule, Array.isArray(value) ? `${name}[${i}]` : name))
}

function compileRule(rule: unknown, name: string): CompiledRule {
  if (typeof rule === 'function') return (req) => (rule as (req: Request) => boolean)(req) === true
  if (rule instanceof RegExp) {
    // A global or sticky RegExp keeps lastIndex between tests; a copy without those flags does not.
    const pattern = new RegExp(rule.source, rule.flags.replace(/[gy]/g, ''))
    return (_req, path) => pattern.test(path)
  }
  if (typeof rule === 'string' && rule.startsWith('/')) {
    const prefix = rule.length > 1 && rule.endsWith('/') ? rule.slice(0, -1) : rule
    if (prefix === '/') return () => true
    return (_req, path) => path === prefix || path.startsWith(`${prefix}/`)
  }
  throw new InvalidOptionError(name, 'a path prefix starting with "/", a RegExp or a function', rule)
}

function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}
