import type { ClusterOptions, RedisOptions } from 'ioredis'
import { InvalidOptionError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'
import type { RedisClient } from './redis-client.js'
import type { RedisDriver } from './redis-driver.js'
import type { NodeBreakerSettings } from './redis-node-state.js'
import { IoredisDriver, isIoredisClient } from './redis-driver-ioredis.js'
import { NodeRedisDriver, isNodeRedisClient } from './redis-driver-node-redis.js'

/** Per node and direction (reads, writes): when to stop sending, and for how long. */
export interface RedisBreakerOptions {
  /** Consecutive failures (timeouts, lost connections, node-level errors such as OOM or READONLY) that open a breaker. @default 5 */
  failureThreshold?: number
  /** First open period, before the first probe. @default '200ms' */
  breakDuration?: Duration
  /** Each failed probe doubles the open period, up to this. @default '5s' */
  maxBreakDuration?: Duration
}

export interface RedisStoreOptions {
  /**
   * A client you own (the store never quits it): an ioredis `Redis` or `Cluster`, or a node-redis
   * (`redis` v4/v5) client from `createClient()` or `createCluster()`, connected.
   */
  client?: RedisClient
  /** A `redis://` or `rediss://` URL; the store creates, tunes and owns the client. */
  url?: string
  /** Extra ioredis options for a client built from `url`. Yours win over the cache-oriented defaults. */
  redisOptions?: RedisOptions
  /** Prepended to every key, so several apps or tests can share one Redis. @default 'cachewire:' */
  prefix?: string
  /**
   * Deadline of each command, counted from when it is handed to the connection (not from when it
   * waited in the store's own queue): a later answer is a miss, or a write that resolves `false`.
   * `'50ms'`, or milliseconds. @default '50ms'
   */
  timeout?: Duration
  /** Deadline of bulk work (tag and pattern invalidation, counting, clear); each of its commands gets at least 1 s. @default '30s' */
  bulkTimeout?: Duration
  /** Keys asked of SCAN per call during pattern deletes. @default 500 */
  scanCount?: number
  /**
   * Circuit breakers, one per node (each Cluster master) and direction: a node that stops
   * answering, or refuses writes, is skipped at once instead of costing every call its deadline,
   * and only what failed is skipped. Probed with PING (reads) or a SET of a probe key (writes);
   * closed again by a probe's answer or the connection's `ready`. `false`: none.
   * @default { failureThreshold: 5, breakDuration: '200ms', maxBreakDuration: '5s' }
   */
  breaker?: RedisBreakerOptions | false
  /** Commands on the wire per connection (per Cluster master), at most; the rest wait in the store's queue. @default 256 */
  maxInFlight?: number
  /** Commands waiting in the store's queue per connection, at most; one more is dropped, counted as `queue-full`. @default 50_000 */
  maxQueue?: number
  /**
   * Longest wait in the store's queue; a command waiting longer is dropped, counted as
   * `queue-timeout`. Reads and writes queue apart (each on its own connection), so a burst of
   * writes never holds a read. @default '5s'
   */
  queueTimeout?: Duration
  /** Connection errors of a client the store owns (ioredis emits them while reconnecting). They also reach the cache's `error` event, rate-limited. @default ignored */
  onConnectionError?: (error: Error) => void
}

export interface ResolvedRedisStoreOptions {
  prefix: string
  timeoutMs: number
  bulkTimeoutMs: number
  scanCount: number
  breaker: NodeBreakerSettings
  maxInFlight: number
  maxQueue: number
  queueTimeoutMs: number
}

const REDIS_STORE_OPTIONS = [
  'client',
  'url',
  'redisOptions',
  'prefix',
  'timeout',
  'bulkTimeout',
  'scanCount',
  'breaker',
  'maxInFlight',
  'maxQueue',
  'queueTimeout',
  'onConnectionError',
] as const
const RENAMED_REDIS_STORE_OPTIONS = {
  deadlineMs: 'timeout',
  bulkDeadlineMs: 'bulkTimeout',
} as const
const BREAKER_OPTIONS = ['failureThreshold', 'breakDuration', 'maxBreakDuration'] as const

/**
 * ioredis defaults suit a queue, not a cache: a request would wait through ~20 reconnect
 * retries when Redis is down. A cache fails fast and falls back to the origin. Reconnects are
 * tried at least every 500 ms, so the cache is back within a second of Redis (the store closes
 * its breakers on the client's `ready`).
 *
 * Auto-pipelining batches the commands sent in one tick (bursts of writes, tag updates) into one
 * write, but not the read of a cache hit: each HTTP request arrives in a tick of its own, so its
 * GET went out alone in a pipeline built for it, which cost a fifth of a front-door hit on Redis
 * (callgrind, 1 KB: 144 k → 114 k instructions a hit without it; bench/callgrind.mjs).
 */
export const CACHE_CLIENT_DEFAULTS: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  enableAutoPipelining: true,
  autoPipeliningIgnoredCommands: ['get', 'pttl'],
  retryStrategy: (times) => Math.min(times * 50, 500),
}

/**
 * Cluster options for a cache: fail fast per node like CACHE_CLIENT_DEFAULTS, re-read the slot
 * map every 2 s so a failed-over master is noticed without waiting for a MOVED reply, and no
 * auto-pipelining: ioredis hands MOVED and "same slots allocation group" errors of an
 * auto-pipelined batch to the caller while slots move, where single commands are redirected.
 *
 * @example
 * ```ts
 * import { Cluster } from 'ioredis'
 * import { RedisStore, CACHE_CLUSTER_DEFAULTS } from '@cachewire/core/redis'
 * const store = new RedisStore({ client: new Cluster(nodes, CACHE_CLUSTER_DEFAULTS) })
 * ```
 */
export const CACHE_CLUSTER_DEFAULTS: ClusterOptions = {
  enableAutoPipelining: false,
  slotsRefreshInterval: 2000,
  slotsRefreshTimeout: 1000,
  clusterRetryStrategy: (times) => Math.min(times * 50, 500),
  redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 2000 },
}

export function normaliseOptions(
  options: RedisStoreOptions | RedisClient | string
): RedisStoreOptions {
  if (typeof options === 'string') return { url: options }
  if (isRedisClient(options)) return { client: options }
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError(
      '',
      'a Redis URL, a Redis client (ioredis or node-redis) or an options object',
      options
    )
  rejectUnknownOptions(options, REDIS_STORE_OPTIONS, '', RENAMED_REDIS_STORE_OPTIONS)
  return options
}

/** Validates and defaults everything but the client, once, at construction. */
export function resolveRedisStoreOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  const prefix = options.prefix ?? 'cachewire:'
  if (typeof prefix !== 'string') throw new InvalidOptionError('prefix', 'a string', prefix)
  if (options.onConnectionError !== undefined && typeof options.onConnectionError !== 'function') {
    throw new InvalidOptionError('onConnectionError', 'a function', options.onConnectionError)
  }
  return {
    prefix,
    timeoutMs: parseDuration(options.timeout ?? '50ms', 'timeout', { kind: 'timeout' }),
    bulkTimeoutMs: parseDuration(options.bulkTimeout ?? '30s', 'bulkTimeout', { kind: 'timeout' }),
    scanCount: positiveInteger(options.scanCount ?? 500, 'scanCount'),
    breaker: resolveBreaker(options.breaker),
    maxInFlight: positiveInteger(options.maxInFlight ?? 256, 'maxInFlight'),
    maxQueue: positiveInteger(options.maxQueue ?? 50_000, 'maxQueue'),
    queueTimeoutMs: parseDuration(options.queueTimeout ?? '5s', 'queueTimeout', {
      kind: 'timeout',
    }),
  }
}

function resolveBreaker(
  breaker: RedisBreakerOptions | false | undefined
): ResolvedRedisStoreOptions['breaker'] {
  if (breaker === false) return false
  if (breaker !== undefined && (typeof breaker !== 'object' || breaker === null))
    throw new InvalidOptionError('breaker', 'an object or false', breaker)
  const settings = breaker ?? {}
  rejectUnknownOptions(settings, BREAKER_OPTIONS, 'breaker', { breakDurationMs: 'breakDuration' })
  const breakDurationMs = parseDuration(
    settings.breakDuration ?? '200ms',
    'breaker.breakDuration',
    { kind: 'timeout' }
  )
  const maxBreakDurationMs = parseDuration(
    settings.maxBreakDuration ?? Math.max(5000, breakDurationMs),
    'breaker.maxBreakDuration',
    { kind: 'timeout' }
  )
  if (maxBreakDurationMs < breakDurationMs) {
    throw new InvalidOptionError(
      'breaker.maxBreakDuration',
      `a duration no shorter than breaker.breakDuration (${breakDurationMs} ms)`,
      settings.maxBreakDuration
    )
  }
  return {
    failureThreshold: positiveInteger(settings.failureThreshold ?? 5, 'breaker.failureThreshold'),
    breakDurationMs,
    maxBreakDurationMs,
  }
}

export function isRedisClient(value: unknown): value is RedisClient {
  return isIoredisClient(value) || isNodeRedisClient(value)
}

/** What the store accepts as `client`, in error messages. */
export const ACCEPTED_CLIENTS =
  'an ioredis Redis or Cluster, or a node-redis (redis v4/v5) client from createClient() or createCluster()'

/** The driver for the client given, by what the object can do (ioredis first: its clients have no `sendCommand(args)`). */
export function createDriver(client: unknown): RedisDriver {
  if (isIoredisClient(client)) return new IoredisDriver(client)
  if (isNodeRedisClient(client)) return new NodeRedisDriver(client)
  throw new InvalidOptionError('client', ACCEPTED_CLIENTS, client)
}

function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    throw new InvalidOptionError(option, 'a positive integer', value)
  return value
}
