import { InvalidOptionError } from '../errors.js'
import { parseDuration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'
import type { CacheLike } from '../cache-like.js'
import { argumentsKey, functionKey } from '../stable-key.js'
import type { WrapOptions } from './wrap.js'

export interface CachedOptions<Args extends unknown[], T> extends Omit<WrapOptions<T>, 'tags'> {
  /**
   * The cache key for a call's arguments. @default `callKey(fn, args)`: the function's name, a hash
   * of its source and a SHA-256 of the arguments, stable across processes (see `callKey`)
   */
  key?: ((...args: Args) => string) | undefined
  /** Tags for a call's result: a list, or a function of the arguments. */
  tags?: readonly string[] | ((...args: Args) => readonly string[]) | undefined
}

const CACHED_OPTIONS = [
  'key',
  'tags',
  'ttl',
  'cacheIf',
  'lock',
  'earlyRefresh',
  'grace',
  'timeout',
] as const

/**
 * Wraps an async function so that calls with the same key are answered from the cache, with
 * single-flight for concurrent calls. Without a `key` function, the key comes from the function's
 * name, its source and its arguments (`callKey`).
 *
 * @example
 * ```ts
 * import { Cache, cached } from '@cachewire/core'
 * const cache = new Cache()
 * const getUser = cached(cache, (id: number) => db.users.find(id), { key: (id) => `user:${id}`, ttl: '1m' })
 * await getUser(1) // loads; the next call within a minute does not
 * const findOrders = cached(cache, async function findOrders(userId: number, since: Date) { return [] }, { ttl: '1m' })
 * await findOrders(1, new Date(0)) // key: 'findOrders:<source hash>:<SHA-256 of the arguments>'
 * ```
 */
export function cached<Args extends unknown[], T>(
  cache: CacheLike,
  fn: (...args: Args) => T | Promise<T>,
  options: CachedOptions<Args, T> = {}
): (...args: Args) => Promise<T> {
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn)
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an options object', options)
  rejectUnknownOptions(options, CACHED_OPTIONS, '')
  if (options.key !== undefined && typeof options.key !== 'function')
    throw new InvalidOptionError(
      'key',
      'a function of the arguments returning a string',
      options.key
    )
  if (options.ttl !== undefined) parseDuration(options.ttl, 'ttl')
  const { key, tags, ...rest } = options
  const prefix = key === undefined ? functionKey(fn) : ''
  // Made once with `tags` among its fields: a call's copy then only replaces it. V8 (Node 20) adds
  // a property to an object spread's copy through its runtime, about a microsecond a call.
  const wrapOptions = { ...rest, tags: typeof tags === 'function' ? undefined : tags }
  return function cachedCall(...args: Args): Promise<T> {
    const callOptions =
      typeof tags === 'function' ? { ...wrapOptions, tags: tags(...args) } : wrapOptions
    const cacheKey = key === undefined ? `${prefix}:${argumentsKey(args)}` : key(...args)
    return cache.wrap(cacheKey, () => fn(...args), callOptions)
  }
}
