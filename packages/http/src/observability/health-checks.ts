import {
  InvalidArgumentError,
  InvalidOptionError,
  parseDuration,
  rejectUnknownOptions,
  type Cache,
  type CacheHealth,
  type Duration,
} from '@cachewire/core'

export interface HealthCheckOptions {
  /** Deadline of the store's ping in a readiness check. @default '1s' */
  timeout?: Duration | undefined
  /**
   * Whether readiness fails (503) while the cache is degraded: the store unreachable or refusing
   * our credentials, a breaker open, invalidations waiting. The cache fails open, so a pod whose
   * Redis is down still answers every request (from the origin): by default it stays ready and
   * the problem shows in the answer's body, in metrics and in the inspector. Set it only when the
   * origin cannot take the load without the cache, knowing that an outage of a shared Redis then
   * takes every pod out of service at once.
   * @default false
   */
  failWhenDegraded?: boolean | undefined
}

/** A health answer to write as is. */
export interface HealthAnswer {
  status: 200 | 503
  headers: Record<string, string>
  body: string
}

/** Readiness and liveness, framework-neutral: the adapters' `liveness()` and `readiness()` write these. */
export interface HealthChecks {
  /** Liveness: 200 while the process can answer at all. Never asks the store: a Redis outage must not get pods restarted. */
  live(): HealthAnswer
  /**
   * Readiness: 200 `{ status: 'ready', cache }` with the cache's health (degraded included, unless
   * `failWhenDegraded`), 503 `{ status: 'not-ready', cache }` otherwise.
   */
  ready(): Promise<HealthAnswer>
}

/** What the health of the answer body is read from: a core `Cache`, or anything holding one as `cache` (a `ResponseCache`, an engine). */
export type HealthTarget = Cache | { readonly cache: Cache }

const OPTIONS = ['timeout', 'failWhenDegraded'] as const
const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
} as const

/**
 * Kubernetes-style probes for a cache. Liveness never depends on Redis (a restart does not fix
 * Redis, and restarting every pod at once is an outage of its own); readiness reports the
 * cache's health and, since the cache fails open, stays 200 when it is degraded unless
 * `failWhenDegraded` says otherwise. Answers are JSON and `Cache-Control: no-store`.
 *
 * @example
 * ```ts
 * import { createHealthChecks } from '@cachewire/http/operations'
 * const checks = createHealthChecks(cache, { timeout: '500ms' })
 * const answer = await checks.ready() // { status: 200, headers, body: '{"status":"ready","cache":{…}}' }
 * ```
 */
export function createHealthChecks(
  target: HealthTarget,
  options: HealthCheckOptions = {}
): HealthChecks {
  const cache = cacheOf(target)
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an object', options)
  rejectUnknownOptions(options, OPTIONS, '')
  const timeout = options.timeout ?? '1s'
  parseDuration(timeout, 'timeout', { kind: 'timeout' })
  if (options.failWhenDegraded !== undefined && typeof options.failWhenDegraded !== 'boolean') {
    throw new InvalidOptionError('failWhenDegraded', 'a boolean', options.failWhenDegraded)
  }
  const failWhenDegraded = options.failWhenDegraded === true
  return {
    live: livenessAnswer,
    async ready() {
      let health: CacheHealth
      try {
        health = await cache.health({ timeout })
      } catch (error) {
        // health() does not reject; if it ever did, say so rather than answer a 500.
        return answer(503, {
          status: 'not-ready',
          error: error instanceof Error ? error.message : String(error),
        })
      }
      const ready = health.status === 'ok' || !failWhenDegraded
      return answer(ready ? 200 : 503, { status: ready ? 'ready' : 'not-ready', cache: health })
    },
  }
}

/**
 * The liveness answer: 200 `{"status":"ok"}`, whatever the cache's state. Liveness never asks the
 * store: a Redis outage is no reason to restart a pod of an app whose cache fails open.
 *
 * @example
 * ```ts
 * const { status, headers, body } = livenessAnswer()
 * ```
 */
export function livenessAnswer(): HealthAnswer {
  return { status: 200, headers: { ...HEADERS }, body: '{"status":"ok"}' }
}

function cacheOf(target: HealthTarget): Cache {
  const candidate =
    typeof (target as Cache | undefined)?.health === 'function'
      ? (target as Cache)
      : (target as { cache?: Cache } | undefined)?.cache
  if (typeof candidate?.health !== 'function')
    throw new InvalidArgumentError(
      'cache',
      'a Cache, or an object holding one as `cache` (a ResponseCache)',
      target
    )
  return candidate
}

function answer(status: 200 | 503, body: unknown): HealthAnswer {
  return { status, headers: { ...HEADERS }, body: JSON.stringify(body) }
}
