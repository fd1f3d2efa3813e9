import type { Shared } from './cache-context.js'
import type { NamespaceKeys } from './namespaces.js'
import type { EntryAge, Store, StoreMeasure } from './types.js'

/** Diagnostics of one cache view: measured size, oldest and newest entries, expiry sweeps. */
export class CacheInspection {
  readonly #shared: Shared
  readonly #keys: NamespaceKeys

  constructor(shared: Shared, keys: NamespaceKeys) {
    this.#shared = shared
    this.#keys = keys
  }

  async measure(): Promise<StoreMeasure | undefined> {
    const { store, calls, clock } = this.#shared
    const measure = store.measure
    if (measure === undefined) {
      const size = store.size?.()
      return size === undefined
        ? undefined
        : { entries: size.entries, bytes: size.bytes, exact: true, measuredAt: clock() }
    }
    return calls.call('measure', () => measure.call(store), undefined)
  }

  async ages(): Promise<
    { oldest: EntryAge | undefined; newest: EntryAge | undefined } | undefined
  > {
    const store: Store = this.#shared.store
    if (store.oldestAndNewest === undefined) return undefined
    const prefix = await this.#keys.storePrefix()
    if (prefix === undefined) return undefined
    const ages = store.oldestAndNewest(prefix)
    // Keys come back as the store holds them: give them back as this view's keys.
    const own = (age: EntryAge | undefined): EntryAge | undefined =>
      age === undefined ? undefined : { ...age, key: age.key.slice(prefix.length) }
    return { oldest: own(ages.oldest), newest: own(ages.newest) }
  }

  async cleanupExpired(): Promise<number> {
    const { store, calls } = this.#shared
    const cleanup = store.cleanupExpired
    if (cleanup === undefined) return 0
    return calls.call('cleanupExpired', () => cleanup.call(store), 0)
  }
}
