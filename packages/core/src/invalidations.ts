import type { EventEmitter } from 'node:events'
import { escapeGlob, globToRegExp } from './glob.js'
import type { NamespaceKeys } from './namespaces.js'
import type { Invalidation } from './resilience/invalidation-queue.js'
import type { StoreCalls } from './resilience/store-call.js'
import type { StatsCounters } from './stats.js'
import type { CacheEvents, Store } from './types.js'

/** What the invalidations of a cache view reach: its store, stats and events. */
export interface InvalidationContext {
  readonly store: Store
  /** Each store call is traced (`cachewire:core.store`), as the cache's other calls are. */
  readonly calls: StoreCalls
  readonly stats: StatsCounters
  readonly events: EventEmitter<CacheEvents>
}

/**
 * Removes every entry filed under any of `tags`. Tags span namespaces, so the same invalidation
 * from any view is one. While queued it hides nothing: which keys carry a tag is known only to
 * the store (a tiered store drops its whole L1 instead).
 */
export function tagInvalidation(
  context: InvalidationContext,
  tags: readonly string[]
): Invalidation {
  const { store, stats, events, calls } = context
  const list = [...tags]
  return {
    target: { kind: 'tags', tags: list },
    operation: 'invalidateTags',
    id: `tags:${JSON.stringify([...new Set(list)].sort())}`,
    apply: (retry) => calls.trace('invalidateTags', () => store.invalidateTags(list, { retry })),
    applied: (removed) => {
      stats.deletes += removed
      events.emit('invalidate', { tags: list, removed })
    },
  }
}

/**
 * Removes one key. `storeKey` is where it lives now, when the namespace version could be read;
 * otherwise it is resolved again at each attempt. While queued, reads of that key miss.
 */
export function keyInvalidation(
  context: InvalidationContext,
  keys: NamespaceKeys,
  key: string,
  storeKey: string | undefined
): Invalidation {
  const { store, stats, events, calls } = context
  return {
    target: { kind: 'delete', key },
    operation: 'delete',
    id: `key:${storeKey ?? `?${key}`}`,
    apply: async (retry) => {
      const resolved = storeKey ?? (await keys.storeKeyOrThrow(key))
      return (await calls.trace('delete', () => store.delete(resolved, { retry }))) ? 1 : 0
    },
    ...(storeKey === undefined ? {} : { hidesKey: storeKey }),
    applied: (removed) => {
      if (removed === 0) return
      stats.deletes++
      events.emit('delete', { key })
    },
  }
}

/** Removes every key of the view matching a glob. While queued, reads of matching keys miss. */
export function patternInvalidation(
  context: InvalidationContext,
  keys: NamespaceKeys,
  pattern: string,
  prefix: string | undefined
): Invalidation {
  const { store, stats, events, calls } = context
  const full = prefix === undefined ? undefined : escapeGlob(prefix) + pattern
  const matcher = full === undefined ? undefined : globToRegExp(full)
  return {
    target: { kind: 'pattern', pattern },
    operation: 'deletePattern',
    id: `pattern:${full ?? `?${pattern}`}`,
    apply: async (retry) => {
      const match = full ?? escapeGlob(await keys.storePrefixOrThrow()) + pattern
      return calls.trace('deletePattern', () => store.deletePattern(match, { retry }))
    },
    ...(matcher === undefined ? {} : { hides: (candidate: string) => matcher.test(candidate) }),
    applied: (removed) => {
      stats.deletes += removed
      events.emit('invalidate', { pattern, removed })
    },
  }
}

/** Empties the store (the root cache's `clear`). While queued, every read misses. */
export function clearInvalidation(context: InvalidationContext): Invalidation {
  const { store, events, calls } = context
  return {
    target: { kind: 'clear' },
    operation: 'clear',
    id: 'clear',
    apply: async (retry) => {
      await calls.trace('clear', () => store.clear({ retry }))
      return 0
    },
    hides: () => true,
    applied: () => events.emit('invalidate', { pattern: '*', removed: 0 }),
  }
}

/**
 * Moves a namespace (and every namespace nested in it) to a new version, O(1). This process moves
 * at once (`beginRenew`), so it reads none of the old entries even while the new version waits in
 * the queue to be written. With `sweep`, the old generation is then deleted (a pattern delete).
 */
export async function namespaceInvalidation(
  context: InvalidationContext,
  keys: NamespaceKeys,
  namespace: string,
  sweep: boolean
): Promise<Invalidation> {
  const { stats, events, calls } = context
  const begun = await keys.beginRenew()
  return {
    target: { kind: 'namespace', namespace },
    operation: 'renewNamespace',
    id: `namespace:${namespace}`,
    apply: (retry) => calls.trace('renewNamespace', () => keys.commitRenew(begun, sweep, retry)),
    applied: (removed) => {
      stats.deletes += removed
      events.emit('invalidate', { namespace, removed })
    },
  }
}
