import { InvalidOptionError } from './errors.js'
import { parseDuration, type Duration } from './duration.js'
import { rejectUnknownOptions } from './known-options.js'
import { MemoryStore } from './stores/memory-store.js'
import { systemClock, type Clock } from './clock.js'
import { structuredSerializer, type Serializer } from './serializers.js'
import type { Store } from './types.js'

export interface CacheOptions {
  /** Where entries live. @default new MemoryStore() (64 MiB) */
  store?: Store
  /** TTL for entries set without one: `'5m'`, `'90 seconds'`, or milliseconds (1000 or more). @default '5m' */
  defaultTtl?: Duration
  /**
   * @deprecated Breakers moved to the store, where they can tell what failed: `new RedisStore({
   * breaker })` has one per node and direction (reads, writes). Only `false` is still accepted
   * here, and means what it always meant for a cache: no breaker of its own (it has none now).
   */
  breaker?: false
  /** Invalidations that could not reach the store wait here, in order, and are retried until applied. */
  invalidationQueue?: InvalidationQueueOptions
  /**
   * Time source, in milliseconds: fill-lock waits, the loader durations early refresh weighs and
   * the rate limit of error events all read it, so a test can move time for all of them at once.
   * @default Date.now (loader durations: performance.now, which is monotonic and sub-millisecond)
   */
  clock?: Clock
  /**
   * Uniform random numbers in [0, 1), for early refresh's draw (XFetch). Inject one to make that
   * decision repeatable. Lock tokens and namespace versions never use it: they stay crypto-random.
   * @default Math.random
   */
  random?: () => number
  /**
   * How values become bytes. The default keeps plain data as JSON and stores what JSON would
   * change (Date, Map, Set, BigInt, typed arrays) in V8's structured format; `jsonSerializer`
   * refuses such values instead; or bring your own (`{ name, encode, decode }`). Bytes are stored
   * as they are whatever the serializer, and values written by another serializer still read.
   * @default structuredSerializer
   */
  serializer?: Serializer
  /**
   * Strict reads by default: `get`, `has`, `ttl` and `getWithMeta` throw `StoreUnavailableError`
   * when the store cannot answer (timeout, error, open breaker) instead of answering "absent".
   * Each call may say otherwise (`get(key, { strict: false })`).
   * @default false
   */
  strict?: boolean
}

export interface InvalidationQueueOptions {
  /** Invalidations waiting at most; one more resolves `status: 'failed'`. @default 10_000 */
  maxSize?: number
  /** How long `whenIdle()` and `close()` wait for queued invalidations to be applied. @default '5s' */
  closeTimeout?: Duration
}

export interface ResolvedCacheOptions {
  store: Store
  defaultTtlMs: number
  invalidationQueue: { maxSize: number; closeTimeoutMs: number }
  clock: Clock
  /** Elapsed-time source: the injected clock, or performance.now. */
  timer: () => number
  random: () => number
  serializer: Serializer
  strict: boolean
}

const CACHE_OPTIONS = [
  'store',
  'defaultTtl',
  'breaker',
  'invalidationQueue',
  'clock',
  'random',
  'serializer',
  'strict',
] as const
const QUEUE_OPTIONS = ['maxSize', 'closeTimeout'] as const

const STORE_METHODS = [
  'get',
  'set',
  'delete',
  'has',
  'invalidateTags',
  'deletePattern',
  'increment',
  'clear',
] as const

/** Validates and defaults cache options once, at construction. */
export function resolveCacheOptions(options: CacheOptions): ResolvedCacheOptions {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an object', options)
  rejectUnknownOptions(options, CACHE_OPTIONS, '')
  const store = options.store ?? new MemoryStore()
  for (const method of STORE_METHODS) {
    if (typeof (store as unknown as Record<string, unknown>)[method] !== 'function') {
      throw new InvalidOptionError('store', `a Store (missing method ${method})`, store)
    }
  }
  const defaultTtlMs = parseDuration(options.defaultTtl ?? '5m', 'defaultTtl')
  if (options.clock !== undefined && typeof options.clock !== 'function')
    throw new InvalidOptionError('clock', 'a function returning milliseconds', options.clock)
  if (options.random !== undefined && typeof options.random !== 'function')
    throw new InvalidOptionError(
      'random',
      'a function returning a number in [0, 1)',
      options.random
    )
  const clock = options.clock ?? systemClock
  if (options.breaker !== undefined && options.breaker !== false) {
    throw new InvalidOptionError(
      'breaker',
      'false or absent: breakers moved to the store, one per node and direction (new RedisStore({ url, breaker: { failureThreshold, breakDuration } }))',
      options.breaker
    )
  }
  const invalidationQueue = resolveQueueOptions(options.invalidationQueue)
  const timer = options.clock ?? (() => performance.now())
  const serializer = options.serializer ?? structuredSerializer
  if (
    typeof serializer !== 'object' ||
    serializer === null ||
    typeof serializer.encode !== 'function' ||
    typeof serializer.decode !== 'function' ||
    typeof serializer.name !== 'string'
  )
    throw new InvalidOptionError(
      'serializer',
      'a Serializer ({ name, encode(value), decode(bytes) })',
      serializer
    )
  if (options.strict !== undefined && typeof options.strict !== 'boolean')
    throw new InvalidOptionError('strict', 'true or false', options.strict)
  return {
    store,
    defaultTtlMs,
    invalidationQueue,
    clock,
    timer,
    random: options.random ?? Math.random,
    serializer,
    strict: options.strict ?? false,
  }
}

function resolveQueueOptions(
  options: InvalidationQueueOptions | undefined
): ResolvedCacheOptions['invalidationQueue'] {
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw new InvalidOptionError('invalidationQueue', 'an object', options)
  const { maxSize = 10_000, closeTimeout = '5s' } = options ?? {}
  if (options !== undefined) rejectUnknownOptions(options, QUEUE_OPTIONS, 'invalidationQueue')
  if (!Number.isSafeInteger(maxSize) || maxSize < 1)
    throw new InvalidOptionError('invalidationQueue.maxSize', 'a positive integer', maxSize)
  const closeTimeoutMs = parseDuration(closeTimeout, 'invalidationQueue.closeTimeout', {
    kind: 'timeout',
  })
  return { maxSize, closeTimeoutMs }
}
