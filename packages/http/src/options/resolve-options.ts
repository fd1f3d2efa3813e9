import { Cache, InvalidOptionError, parseDuration } from '@cachewire/core'
import { CDN_FIELD_OPTIONS, resolveCdnOptions } from '../cdn/cdn-headers.js'
import type { PurgeHook } from '../cdn/purge-hook.js'
import { compileHostAllowList } from '../request/host.js'
import { compileIgnoreList, type QueryPolicy } from '../request/query.js'
import { isCacheStatusName } from '../semantics/cache-status.js'
import type { EtagMode } from '../semantics/etag.js'
import { DEFAULT_HEURISTIC_POLICY, type HeuristicPolicy } from '../semantics/heuristic-freshness.js'
import { DEFAULT_CACHEABLE_STATUSES } from '../semantics/storability.js'
import type {
  CacheScope,
  CardinalityLimit,
  KeyFunction,
  PrivateKeyFunction,
  ResolvedCdnOptions,
  TagsOption,
} from '../types.js'
import { KNOWN, MOVED_COALESCE, MOVED_TOP } from './known-options.js'
import type { HeuristicOptions, HttpCacheOptions, KeysOptions } from './types.js'
import {
  bool,
  cardinalityLimit,
  FIELD_NAME,
  group,
  headerList,
  optionalFunction,
  positiveInteger,
  scopeOption,
  tagsOption,
  window,
} from './validators.js'

const kResolved = Symbol.for('cachewire.http.resolved-options')

/** Options after validation and defaulting; the request path reads only these. */
export interface ResolvedHttpCacheOptions {
  readonly [kResolved]: true
  readonly cache: Cache
  /** The engine made the store (no `storage.cache` or `storage.store` given): `close()` closes it. */
  readonly ownsStore: boolean
  readonly ttlMs: number | undefined
  readonly tags: TagsOption | undefined
  readonly etag: EtagMode
  readonly maxEntryBytes: number
  readonly maxHeaderBytes: number
  readonly maxVariants: number
  readonly statuses: ReadonlySet<number>
  readonly revalidationWindowMs: number
  /** Lower-case. */
  readonly targetedField: string | undefined
  /** `freshness.requestDirectives: 'honour'`. */
  readonly honourRequestDirectives: boolean
  /** Undefined: no heuristic freshness. */
  readonly heuristic: HeuristicPolicy | undefined
  readonly staleWhileRevalidateMs: number
  readonly staleIfErrorMs: number
  /** Predicate over normalised hostnames; undefined means any host. */
  readonly hosts: ((hostname: string) => boolean) | undefined
  readonly methods: ReadonlySet<string>
  readonly query: QueryPolicy
  readonly key: KeyFunction | undefined
  /** Lower-case, sorted. */
  readonly keyedHeaders: readonly string[]
  /** Lower-case. */
  readonly ignoredHeaders: ReadonlySet<string>
  readonly allowCookies: boolean
  readonly shareAuthenticated: boolean
  readonly privateIfCredentialed: boolean
  readonly scope: CacheScope
  readonly privateKey: PrivateKeyFunction | undefined
  /** False: the cardinality guard is off. */
  readonly maxKeysPerWindow: CardinalityLimit | false
  readonly coalesce: { readonly enabled: boolean; readonly timeoutMs: number }
  readonly cdn: ResolvedCdnOptions | undefined
  /** Lower-case. */
  readonly surrogateKeyHeader: string | undefined
  readonly purgeHooks: readonly PurgeHook[]
  readonly debug: boolean
  readonly cacheStatusName: string
  readonly onError: (error: Error) => void
  readonly clock: () => number
}

/** Generous enough for any real route; tight enough that a busting flood cannot fill memory. */
const DEFAULT_CARDINALITY_LIMIT: CardinalityLimit = Object.freeze({
  keys: 10_000,
  windowMs: 60_000,
})
const DEFAULT_QUERY_IGNORE = ['utm_*', 'fbclid', 'gclid']

/**
 * Validates and defaults engine options, once, at build time. Every problem throws an
 * `InvalidOptionError` naming the option (`expected options.storage.maxEntryBytes to be …`),
 * unknown names included. Passing an already resolved object returns it unchanged.
 *
 * @example
 * ```ts
 * const resolved = resolveHttpCacheOptions({ ttl: '1m', storage: { maxEntryBytes: 512_000 } })
 * ```
 */
export function resolveHttpCacheOptions(
  options: HttpCacheOptions | ResolvedHttpCacheOptions = {}
): ResolvedHttpCacheOptions {
  if (typeof options === 'object' && options !== null && kResolved in options) return options
  const o = group(options as HttpCacheOptions, '', KNOWN.top, MOVED_TOP)
  const storage = group(o.storage, 'storage', KNOWN.storage)
  const freshness = group(o.freshness, 'freshness', KNOWN.freshness)
  const stale = group(o.stale, 'stale', KNOWN.stale)
  const keys = group(o.keys, 'keys', KNOWN.keys)
  const safety = group(o.safety, 'safety', KNOWN.safety)
  const cdn = group(o.cdn, 'cdn', KNOWN.cdn)
  const observability = group(o.observability, 'observability', KNOWN.observability)
  const scope = scopeOption(safety.scope, 'safety.scope') ?? 'shared'
  const privateKey = optionalFunction<PrivateKeyFunction>(safety.privateKey, 'safety.privateKey')
  if (scope === 'private' && privateKey === undefined) {
    throw new InvalidOptionError(
      'safety.privateKey',
      "a function when safety.scope is 'private'",
      privateKey
    )
  }
  const perResponseCdn = pick(cdn, CDN_FIELD_OPTIONS)
  const resolvedCdn = resolveCdnOptions(perResponseCdn, 'cdn', CDN_FIELD_OPTIONS)
  return Object.freeze({
    [kResolved]: true as const,
    ttlMs: o.ttl === undefined ? undefined : parseDuration(o.ttl, 'ttl'),
    tags: tagsOption(o.tags, 'tags'),
    etag: etagMode(o.etag),
    statuses: new Set(statusList(freshness.statuses)),
    revalidationWindowMs: window(
      freshness.revalidationWindow,
      'freshness.revalidationWindow',
      300_000
    ),
    targetedField: fieldName(freshness.targetedField, 'freshness.targetedField', false),
    honourRequestDirectives: requestDirectives(freshness.requestDirectives),
    heuristic: heuristicPolicy(freshness.heuristic),
    staleWhileRevalidateMs: window(stale.whileRevalidate, 'stale.whileRevalidate', 0),
    staleIfErrorMs: window(stale.ifError, 'stale.ifError', 0),
    hosts: keys.hosts === undefined ? undefined : hostList(keys.hosts),
    methods: methodList(keys.methods),
    query: queryPolicy(keys.query),
    key: optionalFunction<KeyFunction>(keys.key, 'keys.key'),
    keyedHeaders: headerList(keys.keyedHeaders, 'keys.keyedHeaders') ?? [],
    ignoredHeaders: new Set(headerList(keys.ignoredHeaders, 'keys.ignoredHeaders') ?? []),
    allowCookies: bool(safety.allowCookies, 'safety.allowCookies', false),
    shareAuthenticated: bool(safety.shareAuthenticated, 'safety.shareAuthenticated', false),
    privateIfCredentialed: bool(safety.privateIfCredentialed, 'safety.privateIfCredentialed', true),
    scope,
    privateKey,
    maxKeysPerWindow:
      cardinalityLimit(safety.maxKeysPerWindow, 'safety.maxKeysPerWindow') ??
      DEFAULT_CARDINALITY_LIMIT,
    coalesce: resolveCoalesce(o.coalesce),
    cdn:
      resolvedCdn !== undefined && (resolvedCdn.surrogateKeys || resolvedCdn.fields.length > 0)
        ? resolvedCdn
        : undefined,
    surrogateKeyHeader: fieldName(
      cdn.surrogateKeyHeader,
      'cdn.surrogateKeyHeader',
      'Surrogate-Key'
    ),
    purgeHooks: purgeHookList(cdn.purgeHooks),
    debug: bool(observability.debug, 'observability.debug', false),
    cacheStatusName: cacheStatusName(observability.cacheStatusName),
    onError:
      optionalFunction<(error: Error) => void>(observability.onError, 'observability.onError') ??
      (() => {}),
    clock: optionalFunction<() => number>(o.clock, 'clock') ?? Date.now,
    // Last, so no Cache is built for options that fail.
    ...resolveStorage(storage),
  })
}

function resolveStorage(storage: Partial<NonNullable<HttpCacheOptions['storage']>>) {
  const store = storage.store
  if (
    store !== undefined &&
    (typeof store !== 'object' ||
      store === null ||
      typeof (store as { get?: unknown }).get !== 'function')
  ) {
    throw new InvalidOptionError('storage.store', 'a Store (MemoryStore, RedisStore, …)', store)
  }
  let cache: Cache
  if (storage.cache === undefined) cache = new Cache(store === undefined ? {} : { store })
  else {
    const candidate = storage.cache as unknown as Record<string, unknown> | null
    for (const method of ['get', 'set', 'delete', 'invalidateTags', 'on', 'off']) {
      if (typeof candidate?.[method] !== 'function')
        throw new InvalidOptionError('storage.cache', 'a Cache from @cachewire/core', storage.cache)
    }
    cache = storage.cache
  }
  return {
    cache,
    ownsStore: storage.cache === undefined && store === undefined,
    maxEntryBytes: positiveInteger(storage.maxEntryBytes, 'storage.maxEntryBytes', 1_048_576),
    maxHeaderBytes: positiveInteger(storage.maxHeaderBytes, 'storage.maxHeaderBytes', 16_384),
    maxVariants: positiveInteger(storage.maxVariants, 'storage.maxVariants', 32),
  }
}

function pick<T extends object>(value: T, names: readonly string[]): T | undefined {
  const out: Record<string, unknown> = {}
  for (const name of names)
    if ((value as Record<string, unknown>)[name] !== undefined)
      out[name] = (value as Record<string, unknown>)[name]
  return Object.keys(out).length === 0 ? undefined : (out as T)
}

function resolveCoalesce(value: HttpCacheOptions['coalesce']): {
  enabled: boolean
  timeoutMs: number
} {
  if (value === undefined || typeof value === 'boolean')
    return { enabled: value ?? true, timeoutMs: 5000 }
  const { timeout } = group(value, 'coalesce', KNOWN.coalesce, MOVED_COALESCE)
  return {
    enabled: true,
    timeoutMs:
      timeout === undefined
        ? 5000
        : parseDuration(timeout, 'coalesce.timeout', { kind: 'timeout' }),
  }
}

function purgeHookList(value: readonly PurgeHook[] | undefined): readonly PurgeHook[] {
  if (value === undefined) return []
  if (!Array.isArray(value))
    throw new InvalidOptionError('cdn.purgeHooks', 'an array of { purge(event) } hooks', value)
  value.forEach((hook: unknown, i) => {
    if (typeof (hook as PurgeHook | null)?.purge !== 'function')
      throw new InvalidOptionError(
        `cdn.purgeHooks[${i}]`,
        'an object with a purge(event) method',
        hook
      )
  })
  return Object.freeze([...value])
}

function statusList(value: readonly number[] | undefined): readonly number[] {
  if (value === undefined) return DEFAULT_CACHEABLE_STATUSES
  if (!Array.isArray(value))
    throw new InvalidOptionError('freshness.statuses', 'an array of status codes', value)
  value.forEach((status: unknown, i) => {
    if (!Number.isInteger(status) || (status as number) < 200 || (status as number) > 599) {
      throw new InvalidOptionError(
        `freshness.statuses[${i}]`,
        'a final status code (200-599)',
        status
      )
    }
  })
  return value
}

function requestDirectives(value: unknown): boolean {
  if (value === 'honour') return true
  if (value === undefined || value === 'ignore') return false
  throw new InvalidOptionError('freshness.requestDirectives', '"honour" or "ignore"', value)
}

/** `false` or absent: none; `{}`: RFC 9111 §4.2.2's typical 10 %, at most a day. */
function heuristicPolicy(value: unknown): HeuristicPolicy | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true)
    throw new InvalidOptionError(
      'freshness.heuristic',
      "false or { fraction?, max? } ({} for 10 %, at most '1d')",
      value
    )
  const { fraction, max } = group(value as HeuristicOptions, 'freshness.heuristic', KNOWN.heuristic)
  if (
    fraction !== undefined &&
    (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1))
  ) {
    throw new InvalidOptionError(
      'freshness.heuristic.fraction',
      'a number in (0, 1], like 0.1',
      fraction
    )
  }
  return Object.freeze({
    fraction: fraction ?? DEFAULT_HEURISTIC_POLICY.fraction,
    maxMs:
      max === undefined
        ? DEFAULT_HEURISTIC_POLICY.maxMs
        : parseDuration(max, 'freshness.heuristic.max'),
  })
}

function hostList(value: readonly string[]): (hostname: string) => boolean {
  if (!Array.isArray(value))
    throw new InvalidOptionError('keys.hosts', 'an array of host names', value)
  value.forEach((host: unknown, i) => {
    if (typeof host !== 'string' || compileHostAllowList([host]) === undefined) {
      throw new InvalidOptionError(
        `keys.hosts[${i}]`,
        'a host name like "example.com" or "*.example.com"',
        host
      )
    }
  })
  return compileHostAllowList(value) as (hostname: string) => boolean
}

function queryPolicy(value: KeysOptions['query']): QueryPolicy {
  const query = group(value, 'keys.query', KNOWN.query)
  const ignore = query.ignore ?? DEFAULT_QUERY_IGNORE
  if (!Array.isArray(ignore))
    throw new InvalidOptionError('keys.query.ignore', 'an array of parameter names', ignore)
  ignore.forEach((name: unknown, i) => {
    if (typeof name !== 'string' || name === '')
      throw new InvalidOptionError(`keys.query.ignore[${i}]`, 'a non-empty string', name)
  })
  return { sort: bool(query.sort, 'keys.query.sort', true), ignore: compileIgnoreList(ignore) }
}

function methodList(value: KeysOptions['methods']): ReadonlySet<string> {
  if (value === undefined) return new Set(['GET', 'HEAD'])
  if (!Array.isArray(value) || value.length === 0)
    throw new InvalidOptionError('keys.methods', 'a non-empty array of "GET" and "HEAD"', value)
  value.forEach((method: unknown, i) => {
    if (method !== 'GET' && method !== 'HEAD')
      throw new InvalidOptionError(`keys.methods[${i}]`, '"GET" or "HEAD"', method)
  })
  return new Set(value)
}

function etagMode(value: unknown): EtagMode {
  if (value === undefined) return 'strong'
  if (value !== 'strong' && value !== 'weak' && value !== false)
    throw new InvalidOptionError('etag', '"strong", "weak" or false', value)
  return value
}

function fieldName(value: unknown, name: string, fallback: string | false): string | undefined {
  const chosen = value === undefined ? fallback : value
  if (chosen === false) return undefined
  if (
    typeof chosen !== 'string' ||
    !FIELD_NAME.test(chosen) ||
    chosen.toLowerCase() === 'cache-control'
  ) {
    throw new InvalidOptionError(name, 'a header field name or false', chosen)
  }
  return chosen.toLowerCase()
}

function cacheStatusName(value: unknown): string {
  if (value === undefined) return 'cachewire'
  if (typeof value !== 'string' || !isCacheStatusName(value))
    throw new InvalidOptionError(
      'observability.cacheStatusName',
      'a structured-field token like "cachewire"',
      value
    )
  return value
}
