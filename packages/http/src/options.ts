import { Cache, InvalidOptionError, toMilliseconds, type Ttl } from '@cachewire/core'
import { compileHostAllowList } from './request/host.js'
import { compileIgnoreList, type QueryPolicy } from './request/query.js'
import { isCacheStatusName } from './semantics/cache-status.js'
import type { EtagMode } from './semantics/etag.js'
import { DEFAULT_CACHEABLE_STATUSES } from './semantics/storability.js'
import type { CardinalityLimit } from './flows/cardinality-guard.js'
import type { CacheScope, HttpCacheOptions, KeyFunction, MaxKeysPerWindow, PrivateKeyFunction, RouteOptions, RoutePolicy, TagsOption } from './types.js'
import { resolveCdnOptions, type ResolvedCdnOptions } from './cdn/cdn-headers.js'
import type { PurgeHook } from './cdn/purge-hook.js'

const kResolved = Symbol.for('cachewire.http.resolved-options')

/** Options after validation and defaulting; the request path reads only these. */
export interface ResolvedHttpCacheOptions {
  readonly [kResolved]: true
  readonly cache: Cache
  readonly ttlMs: number | undefined
  readonly statuses: ReadonlySet<number>
  readonly maxEntrySize: number
  /** Predicate over normalised hostnames; undefined means any host. */
  readonly hosts: ((hostname: string) => boolean) | undefined
  readonly query: QueryPolicy
  readonly key: KeyFunction | undefined
  readonly methods: ReadonlySet<string>
  readonly allowCookies: boolean
  readonly respectRequestNoCache: boolean
  readonly staleWhileRevalidateMs: number
  readonly staleIfErrorMs: number
  readonly revalidationWindowMs: number
  readonly etag: EtagMode
  /** Lower-case. */
  readonly targetedCacheControl: string | undefined
  /** Lower-case. */
  readonly surrogateKeyHeader: string | undefined
  readonly cacheStatusName: string
  readonly debug: boolean
  readonly coalesce: { readonly enabled: boolean; readonly timeoutMs: number }
  readonly maxVariants: number
  readonly maxHeaderSize: number
  /** False: the cardinality guard is off. */
  readonly maxKeysPerWindow: CardinalityLimit | false
  /** Lower-case, sorted. */
  readonly keyedHeaders: readonly string[]
  /** Lower-case. */
  readonly ignoredHeaders: ReadonlySet<string>
  readonly scope: CacheScope
  readonly privateKey: PrivateKeyFunction | undefined
  readonly tags: TagsOption | undefined
  readonly clock: () => number
  readonly onError: (error: Error) => void
  readonly cdn: ResolvedCdnOptions | undefined
  readonly purgeHooks: readonly PurgeHook[]
}

/** RFC 9110 §5.1 field-name. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Validates and defaults engine options, once, at build time. Every problem throws an
 * `InvalidOptionError` naming the option (`expected options.ttl to be …, got …`). Passing an
 * already resolved object returns it unchanged.
 *
 * @example
 * ```ts
 * import { createHttpCache, resolveHttpCacheOptions } from '@cachewire/http'
 * const engine = createHttpCache(resolveHttpCacheOptions({ ttl: '1m' }))
 * ```
 */
export function resolveHttpCacheOptions(options: HttpCacheOptions | ResolvedHttpCacheOptions = {}): ResolvedHttpCacheOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  if (kResolved in options) return options
  const o: HttpCacheOptions = options
  const cache = resolveCache(o)
  const coalesce = resolveCoalesce(o.coalesce)
  const scope = scopeOption(o.scope, 'scope') ?? 'shared'
  const privateKey = optionalFunction(o.privateKey, 'privateKey') as PrivateKeyFunction | undefined
  if (scope === 'private' && privateKey === undefined) {
    throw new InvalidOptionError('privateKey', "a function when scope is 'private'", privateKey)
  }
  return Object.freeze({
    [kResolved]: true as const,
    cache,
    ttlMs: o.ttl === undefined ? undefined : toMilliseconds(o.ttl, 'ttl'),
    statuses: new Set(statusList(o.statuses)),
    maxEntrySize: positiveInteger(o.maxEntrySize, 'maxEntrySize', 1_048_576),
    hosts: o.hosts === undefined ? undefined : hostList(o.hosts),
    query: queryPolicy(o.query),
    key: optionalFunction(o.key, 'key') as KeyFunction | undefined,
    methods: methodList(o.methods),
    allowCookies: bool(o.allowCookies, 'allowCookies', false),
    respectRequestNoCache: bool(o.respectRequestNoCache, 'respectRequestNoCache', true),
    staleWhileRevalidateMs: durationWindow(o.staleWhileRevalidate, 'staleWhileRevalidate', false),
    staleIfErrorMs: durationWindow(o.staleIfError, 'staleIfError', false),
    revalidationWindowMs: durationWindow(o.revalidationWindow, 'revalidationWindow', '5m'),
    etag: etagMode(o.etag),
    targetedCacheControl: fieldName(o.targetedCacheControl, 'targetedCacheControl', false),
    surrogateKeyHeader: fieldName(o.surrogateKeyHeader, 'surrogateKeyHeader', 'Surrogate-Key'),
    cacheStatusName: cacheStatusName(o.cacheStatusName),
    debug: bool(o.debug, 'debug', false),
    coalesce,
    maxVariants: positiveInteger(o.maxVariants, 'maxVariants', 32),
    maxHeaderSize: positiveInteger(o.maxHeaderSize, 'maxHeaderSize', 16_384),
    maxKeysPerWindow: cardinalityLimit(o.maxKeysPerWindow, 'maxKeysPerWindow') ?? DEFAULT_CARDINALITY_LIMIT,
    keyedHeaders: headerList(o.keyedHeaders, 'keyedHeaders') ?? [],
    ignoredHeaders: new Set(headerList(o.ignoredHeaders, 'ignoredHeaders') ?? []),
    scope,
    privateKey,
    tags: tagsOption(o.tags, 'tags'),
    clock: (optionalFunction(o.clock, 'clock') as (() => number) | undefined) ?? Date.now,
    onError: (optionalFunction(o.onError, 'onError') as ((error: Error) => void) | undefined) ?? (() => {}),
    cdn: resolveCdnOptions(o.cdn, 'cdn'),
    purgeHooks: purgeHookList(o.purgeHooks),
  })
}

/**
 * Validates per-route options once, when the route is built; pass the result on every request
 * as `HttpRequest.route`.
 *
 * @example
 * ```ts
 * import { resolveRouteOptions } from '@cachewire/http'
 * const route = resolveRouteOptions({ ttl: '5m', staleIfError: '1h', tags: ['products'] })
 * await engine.handle({ ...request, route }, runHandler)
 * ```
 */
export function resolveRouteOptions(options: RouteOptions = {}): RoutePolicy {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'an object', options)
  const optionalWindow = (value: Ttl | false | undefined, name: string): number | undefined =>
    value === undefined ? undefined : durationWindow(value, name, false)
  return Object.freeze({
    ttlMs: options.ttl === undefined ? undefined : toMilliseconds(options.ttl, 'ttl'),
    staleWhileRevalidateMs: optionalWindow(options.staleWhileRevalidate, 'staleWhileRevalidate'),
    staleIfErrorMs: optionalWindow(options.staleIfError, 'staleIfError'),
    allowCookies: options.allowCookies === undefined ? undefined : bool(options.allowCookies, 'allowCookies', false),
    tags: tagsOption(options.tags, 'tags'),
    key: optionalFunction(options.key, 'key') as KeyFunction | undefined,
    scope: scopeOption(options.scope, 'scope'),
    privateKey: optionalFunction(options.privateKey, 'privateKey') as PrivateKeyFunction | undefined,
    keyedHeaders: headerList(options.keyedHeaders, 'keyedHeaders'),
    ignoredHeaders: headerList(options.ignoredHeaders, 'ignoredHeaders'),
    maxKeysPerWindow: cardinalityLimit(options.maxKeysPerWindow, 'maxKeysPerWindow'),
    cdn: options.cdn === false ? false : resolveCdnOptions(options.cdn, 'cdn'),
  })
}

/** Generous enough for any real route; tight enough that a busting flood cannot fill memory. */
const DEFAULT_CARDINALITY_LIMIT: CardinalityLimit = Object.freeze({ keys: 10_000, windowMs: 60_000 })

function purgeHookList(value: readonly PurgeHook[] | undefined): readonly PurgeHook[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new InvalidOptionError('purgeHooks', 'an array of { purge(event) } hooks', value)
  value.forEach((hook: unknown, i) => {
    if (typeof (hook as PurgeHook | null)?.purge !== 'function') throw new InvalidOptionError(`purgeHooks[${i}]`, 'an object with a purge(event) method', hook)
  })
  return Object.freeze([...value])
}

function scopeOption(value: CacheScope | undefined, name: string): CacheScope | undefined {
  if (value === undefined) return undefined
  if (value !== 'shared' && value !== 'private') throw new InvalidOptionError(name, '"shared" or "private"', value)
  return value
}

function headerList(value: readonly string[] | undefined, name: string): readonly string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw new InvalidOptionError(name, 'an array of header field names', value)
  value.forEach((header, i) => {
    if (typeof header !== 'string' || !FIELD_NAME.test(header)) throw new InvalidOptionError(`${name}[${i}]`, 'a header field name', header)
  })
  return Object.freeze([...new Set(value.map((header) => header.toLowerCase()))].sort())
}

function cardinalityLimit(value: MaxKeysPerWindow | false | undefined, name: string): CardinalityLimit | false | undefined {
  if (value === undefined || value === false) return value
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError(name, '{ keys, windowMs } or false', value)
  return Object.freeze({
    keys: requiredPositiveInteger(value.keys, `${name}.keys`),
    windowMs: toMilliseconds(value.windowMs, `${name}.windowMs`),
  })
}

function resolveCache(o: HttpCacheOptions): Cache {
  if (o.cache === undefined) return new Cache(o.store === undefined ? {} : { store: o.store })
  const candidate = o.cache as unknown as Record<string, unknown>
  for (const method of ['get', 'set', 'delete', 'invalidateTags']) {
    if (typeof candidate?.[method] !== 'function') throw new InvalidOptionError('cache', 'a Cache from @cachewire/core', o.cache)
  }
  return o.cache
}

function resolveCoalesce(value: HttpCacheOptions['coalesce']): { enabled: boolean; timeoutMs: number } {
  if (value === undefined || typeof value === 'boolean') return { enabled: value ?? true, timeoutMs: 5000 }
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError('coalesce', 'a boolean or { enabled, timeoutMs }', value)
  return {
    enabled: bool(value.enabled, 'coalesce.enabled', true),
    timeoutMs: positiveInteger(value.timeoutMs, 'coalesce.timeoutMs', 5000),
  }
}

function statusList(value: readonly number[] | undefined): readonly number[] {
  if (value === undefined) return DEFAULT_CACHEABLE_STATUSES
  if (!Array.isArray(value)) throw new InvalidOptionError('statuses', 'an array of status codes', value)
  value.forEach((status, i) => {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new InvalidOptionError(`statuses[${i}]`, 'a final status code (200-599)', status)
    }
  })
  return value
}

function hostList(value: readonly string[]): (hostname: string) => boolean {
  if (!Array.isArray(value)) throw new InvalidOptionError('hosts', 'an array of host names', value)
  value.forEach((host, i) => {
    if (typeof host !== 'string' || compileHostAllowList([host]) === undefined) {
      throw new InvalidOptionError(`hosts[${i}]`, 'a host name like "example.com" or "*.example.com"', host)
    }
  })
  return compileHostAllowList(value) as (hostname: string) => boolean
}

function queryPolicy(value: HttpCacheOptions['query']): QueryPolicy {
  if (value === undefined) return { sort: true, ignore: compileIgnoreList(['utm_*', 'fbclid', 'gclid']) }
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError('query', 'an object', value)
  const ignore = value.ignore ?? ['utm_*', 'fbclid', 'gclid']
  if (!Array.isArray(ignore)) throw new InvalidOptionError('query.ignore', 'an array of parameter names', ignore)
  ignore.forEach((name, i) => {
    if (typeof name !== 'string' || name === '') throw new InvalidOptionError(`query.ignore[${i}]`, 'a non-empty string', name)
  })
  return { sort: bool(value.sort, 'query.sort', true), ignore: compileIgnoreList(ignore) }
}

function methodList(value: HttpCacheOptions['methods']): ReadonlySet<string> {
  if (value === undefined) return new Set(['GET', 'HEAD'])
  if (!Array.isArray(value) || value.length === 0) throw new InvalidOptionError('methods', 'a non-empty array of "GET" and "HEAD"', value)
  value.forEach((method, i) => {
    if (method !== 'GET' && method !== 'HEAD') throw new InvalidOptionError(`methods[${i}]`, '"GET" or "HEAD"', method)
  })
  return new Set(value)
}

function durationWindow(value: Ttl | false | undefined, name: string, fallback: Ttl | false): number {
  const chosen = value === undefined ? fallback : value
  return chosen === false ? 0 : toMilliseconds(chosen, name)
}

function etagMode(value: HttpCacheOptions['etag']): EtagMode {
  if (value === undefined) return 'strong'
  if (value !== 'strong' && value !== 'weak' && value !== false) throw new InvalidOptionError('etag', '"strong", "weak" or false', value)
  return value
}

function fieldName(value: string | false | undefined, name: string, fallback: string | false): string | undefined {
  const chosen = value === undefined ? fallback : value
  if (chosen === false) return undefined
  if (typeof chosen !== 'string' || !FIELD_NAME.test(chosen) || chosen.toLowerCase() === 'cache-control') {
    throw new InvalidOptionError(name, 'a header field name or false', chosen)
  }
  return chosen.toLowerCase()
}

function cacheStatusName(value: string | undefined): string {
  if (value === undefined) return 'cachewire'
  if (typeof value !== 'string' || !isCacheStatusName(value)) throw new InvalidOptionError('cacheStatusName', 'a structured-field token like "cachewire"', value)
  return value
}

function tagsOption(value: TagsOption | undefined, name: string): TagsOption | undefined {
  if (value === undefined || typeof value === 'function') return value
  if (!Array.isArray(value)) throw new InvalidOptionError(name, 'an array of tags or a function', value)
  value.forEach((tag, i) => {
    if (typeof tag !== 'string' || tag === '' || tag.length > 256) throw new InvalidOptionError(`${name}[${i}]`, 'a tag of 1 to 256 characters', tag)
  })
  return Object.freeze([...value])
}

function requiredPositiveInteger(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) throw new InvalidOptionError(name, 'a positive integer', value)
  return value as number
}

function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidOptionError(name, 'a positive integer', value)
  return value
}

function bool(value: boolean | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, 'a boolean', value)
  return value
}

function optionalFunction(value: unknown, name: string): unknown {
  if (value !== undefined && typeof value !== 'function') throw new InvalidOptionError(name, 'a function', value)
  return value
}
