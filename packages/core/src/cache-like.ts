import type { WrapOptions } from './patterns/wrap.js'
import { kPendingWrites, type PendingHooks } from './patterns/pending-writes.js'
import type { InvalidationResult, SetOptions } from './types.js'

/**
 * The part of a `Cache` that the data patterns (`cached`, `writeThrough`, `WriteBehind`) use. A
 * `Cache`, or a namespace view of one, is a `CacheLike`. The patterns depend on this shape rather
 * than on the `Cache` class, so the facade can offer them as methods without an import cycle.
 *
 * @example
 * ```ts
 * import { Cache, writeThrough, type CacheLike } from '@cachewire/core'
 * const cache: CacheLike = new Cache().namespace('users')
 * await writeThrough(cache, 'user:1', { name: 'Ada' }, async (user) => user)
 * ```
 */
export interface CacheLike {
  get<T = unknown>(key: string): Promise<T | undefined>
  set(key: string, value: unknown, options?: SetOptions): Promise<boolean>
  delete(key: string): Promise<InvalidationResult>
  wrap<T>(key: string, loader: () => T | Promise<T>, options?: WrapOptions<T>): Promise<T>
  /** Where write-behind shadows pending writes (a `Cache` has it; other CacheLikes may not). */
  readonly [kPendingWrites]?: PendingHooks
}
