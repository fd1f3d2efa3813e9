import { assertOptions } from '../arguments.js'
import { parseDuration } from '../duration.js'
import type { CacheLike } from '../cache-like.js'
import type { SetOptions } from '../types.js'

/**
 * Write-through: the source of truth first, then the cache. If `persist` fails the cache is left
 * as it was and the caller gets the error. If the cache write fails after a successful persist,
 * the key is deleted (best effort) so readers fall back to the source instead of an old value.
 *
 * @example
 * ```ts
 * import { Cache, writeThrough } from '@cachewire/core'
 * const cache = new Cache()
 * await writeThrough(cache, 'user:1', user, (value) => db.users.save(value), { tags: ['users'] })
 * ```
 */
export async function writeThrough<T, R>(
  cache: CacheLike,
  key: string,
  value: T,
  persist: (value: T) => R | Promise<R>,
  options: SetOptions = {}
): Promise<R> {
  // Bad cache options must fail before the source is written, not after.
  assertOptions(options, ['ttl', 'tags'])
  if (options.ttl !== undefined) parseDuration(options.ttl, 'ttl')
  const result = await persist(value)
  const stored = await cache.set(key, value, options)
  if (!stored) await cache.delete(key)
  return result
}
