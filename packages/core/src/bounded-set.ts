import { assertKey, assertOptions } from './arguments.js'
import { InvalidArgumentError } from './errors.js'
import type { Duration } from './duration.js'
import type { NamespaceKeys } from './namespaces.js'
import type { StoreCalls } from './resilience/store-call.js'
import type { BoundedSetResult, Store } from './types.js'

/** Options of `Cache.addToBoundedSet`. */
export interface BoundedSetOptions {
  /** Live members at most; an absent member is refused once the set holds this many. */
  max: number
  /** How long a member lives after its last add. @default the cache's `defaultTtl` */
  ttl?: Duration
}

const BOUNDED_SET_OPTIONS = ['max', 'ttl'] as const

/**
 * The work of `Cache.addToBoundedSet`: arguments checked, the key placed in its namespace, one
 * store call that fails open to `undefined`.
 */
export async function addToBoundedSet(
  context: {
    store: Store
    calls: StoreCalls
    keys: NamespaceKeys
    ttlMs: (ttl: Duration | undefined) => number
  },
  key: string,
  member: string,
  options: BoundedSetOptions
): Promise<BoundedSetResult | undefined> {
  assertKey(key, 'key')
  assertKey(member, 'member')
  assertOptions(options, BOUNDED_SET_OPTIONS)
  const { max } = options
  if (!Number.isSafeInteger(max) || max < 1)
    throw new InvalidArgumentError('max', 'a positive integer', max)
  const ttlMs = context.ttlMs(options.ttl)
  const { store } = context
  const add = store.addToBoundedSet
  if (add === undefined) return undefined
  const storeKey = await context.keys.storeKey(key)
  if (storeKey === undefined) return undefined
  return context.calls.call(
    'addToBoundedSet',
    () => add.call(store, storeKey, member, max, ttlMs),
    undefined
  )
}
