import type { Store } from './types.js'

/**
 * What core helpers built on a cache (`rateLimit`) need beyond its public methods: the store, and
 * a strict call through the cache's breaker and error accounting. Keyed by a registered symbol, so
 * a helper from another copy of the package (ESM beside CJS) finds it too. Not part of the public API.
 */
export const kStoreAccess: unique symbol = Symbol.for('cachewire.store-access') as never

export interface StoreAccess {
  readonly store: Store
  /** Runs a store call; throws `StoreUnavailableError` when the store cannot answer (counted and emitted on the cache). */
  strict<T>(operation: string, run: () => Promise<T>): Promise<T>
}

/** The store access of a cache, or `undefined` for an object that is not a cachewire `Cache`. */
export function storeAccess(cache: unknown): StoreAccess | undefined {
  if (typeof cache !== 'object' || cache === null) return undefined
  const access = (cache as { [kStoreAccess]?: StoreAccess })[kStoreAccess]
  return typeof access?.strict === 'function' ? access : undefined
}
