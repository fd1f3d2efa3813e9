import { parseDuration, type Duration } from './duration.js'
import { InvalidArgumentError, StoreTimeoutError } from './errors.js'
import { rejectUnknownOptions } from './known-options.js'
import { withDeadline } from './resilience/deadline.js'
import type { CircuitState } from './resilience/circuit-breaker.js'
import type { CacheStats, Store } from './types.js'

export interface CacheHealthOptions {
  /** Deadline of the store's ping: a later answer counts as a timeout. @default '1s' */
  timeout?: Duration | undefined
}

/** Why a store did not answer its ping, in the words an operator acts on. */
export type StoreProblem = 'auth' | 'connection' | 'timeout' | 'error'

/** One circuit breaker, as a store with one per node and direction reports it. */
export interface BreakerHealth {
  node: string
  direction: string
  state: CircuitState
}

/**
 * What `Cache.health()` found. The cache fails open, so `degraded` means "serving, from the
 * origin where the store cannot help", not "down": see `problems` for what to fix.
 */
export interface CacheHealth {
  /** `ok`: the store answered (or is in-process), no breaker is open, nothing waits. `degraded`: any of those is not so. */
  status: 'ok' | 'degraded'
  /** What is wrong, one line each (empty when `ok`), e.g. `store redis refused our credentials: WRONGPASS …`. */
  problems: string[]
  store: {
    name: string
    /** `ok`: answered within the deadline; `failed`/`timeout`: did not; `not-supported`: the store has no `ping` (memory). */
    ping: 'ok' | 'failed' | 'timeout' | 'not-supported'
    /** How long the ping took, in ms, when it answered. */
    latencyMs: number | undefined
    problem: StoreProblem | undefined
    /** The store's own words, when the ping failed. */
    error: string | undefined
  }
  /** The cache's breaker, or the worst of the store's. */
  breaker: CircuitState
  /** Each breaker, where the store keeps one per node and direction; empty otherwise. */
  breakers: readonly BreakerHealth[]
  /** Store calls under way or waiting, where the cache or store tells. */
  pendingOperations: number
  /** Invalidations waiting for the store to come back, where the cache queues them. */
  queuedInvalidations: number
  /** When it was checked (ms since the epoch). */
  checkedAt: number
}

const HEALTH_OPTIONS = ['timeout'] as const

/** Reply prefixes of Redis (and servers speaking its protocol) for credentials it refuses. */
const AUTH_REPLIES = [
  'NOAUTH',
  'WRONGPASS',
  'ERR invalid password',
  'ERR AUTH',
  'ERR Client sent AUTH',
  'NOPERM',
]
/** Error codes and messages of a connection that could not be made or was lost. */
const CONNECTION_SIGNS = [
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
  'Connection is closed',
  "Stream isn't writeable",
  'connect ',
]

/**
 * Checks a store for `Cache.health()`: a ping within the deadline, then the cache's counters.
 *
 * @example
 * ```ts
 * const health = await checkHealth(store, () => cache.stats(), { timeout: '500ms' })
 * ```
 */
export async function checkHealth(
  store: Store,
  stats: () => CacheStats,
  options: CacheHealthOptions,
  clock: () => number = Date.now
): Promise<CacheHealth> {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('options', 'an options object', options)
  rejectUnknownOptions(options, HEALTH_OPTIONS, '')
  const timeoutMs = parseDuration(options.timeout ?? '1s', 'timeout', { kind: 'timeout' })
  const problems: string[] = []
  const checked: CacheHealth['store'] = {
    name: store.name,
    ping: 'not-supported',
    latencyMs: undefined,
    problem: undefined,
    error: undefined,
  }
  if (typeof store.ping === 'function') {
    const started = performance.now()
    try {
      await withDeadline(store.ping(), timeoutMs, 'ping')
      checked.ping = 'ok'
      checked.latencyMs = performance.now() - started
    } catch (error) {
      const problem = classify(error)
      checked.ping = problem === 'timeout' ? 'timeout' : 'failed'
      checked.problem = problem
      checked.error = messageOf(error)
      problems.push(describe(store.name, problem, checked.error, timeoutMs))
    }
  }
  const snapshot = stats() as CacheStats &
    Partial<{
      breakers: readonly BreakerHealth[]
      pendingOperations: number
      queuedInvalidations: number
    }>
  const breakers = (snapshot.breakers ?? []).map(({ node, direction, state }) => ({
    node,
    direction,
    state,
  }))
  for (const breaker of breakers)
    if (breaker.state !== 'closed')
      problems.push(
        `breaker ${breaker.direction} on ${breaker.node} is ${breaker.state}: calls to it are skipped`
      )
  if (breakers.length === 0 && snapshot.breaker !== 'closed')
    problems.push(`breaker is ${snapshot.breaker}: store calls are skipped`)
  const queuedInvalidations = snapshot.queuedInvalidations ?? 0
  if (queuedInvalidations > 0)
    problems.push(`${queuedInvalidations} invalidation(s) wait for the store`)
  return {
    status: problems.length === 0 ? 'ok' : 'degraded',
    problems,
    store: checked,
    breaker: snapshot.breaker,
    breakers,
    pendingOperations: snapshot.pendingOperations ?? 0,
    queuedInvalidations,
    checkedAt: clock(),
  }
}

function classify(error: unknown): StoreProblem {
  if (error instanceof StoreTimeoutError) return 'timeout'
  const message = messageOf(error)
  const code = (error as { code?: unknown } | null)?.code
  if (AUTH_REPLIES.some((prefix) => message.startsWith(prefix))) return 'auth'
  if (typeof code === 'string' && CONNECTION_SIGNS.includes(code)) return 'connection'
  if (CONNECTION_SIGNS.some((sign) => message.includes(sign))) return 'connection'
  return 'error'
}

function describe(
  store: string,
  problem: StoreProblem,
  message: string,
  timeoutMs: number
): string {
  switch (problem) {
    case 'auth':
      return `store ${store} refused our credentials (${message}): check the password or user in the Redis URL or redisOptions`
    case 'connection':
      return `store ${store} cannot be reached (${message})`
    case 'timeout':
      return `store ${store} did not answer a ping within ${timeoutMs} ms`
    case 'error':
      return `store ${store} failed its ping (${message})`
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
