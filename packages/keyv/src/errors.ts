import { CachewireError } from '@cachewire/core'

/**
 * A `KeyvStore` operation the Keyv store under it cannot do (today: `deletePattern` on a store
 * Keyv cannot iterate). Raised when the operation is called; the `Cache` reports it as an `error`
 * event, and the invalidation resolves `{ status: 'failed', removed: 0 }` (it is not queued: a retry
 * would fail the same way). Its `code` is `CACHEWIRE_STORE_ERROR`.
 *
 * @example
 * ```ts
 * import { Cache } from '@cachewire/core'
 * import { KeyvStore, KeyvUnsupportedError } from '@cachewire/keyv'
 *
 * const cache = new Cache({ store: new KeyvStore(keyvWithoutIterator) })
 * cache.on('error', (error) => {
 *   if (error instanceof KeyvUnsupportedError) console.warn(error.operation, error.message)
 * })
 * ```
 */
export class KeyvUnsupportedError extends CachewireError {
  /** The store method that was called, e.g. `'deletePattern'`. */
  readonly operation: string
  constructor(operation: string, reason: string) {
    super('CACHEWIRE_STORE_ERROR', `KeyvStore cannot ${operation}: ${reason}`)
    this.operation = operation
  }
}
