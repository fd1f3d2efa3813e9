import type { Request, Response } from 'express'
import {
  createHealthChecks,
  livenessAnswer,
  type HealthAnswer,
  type HealthCheckOptions,
  type HealthTarget,
} from '@cachewire/http/operations'

/** An Express handler answering a probe. */
export type ProbeHandler = (req: Request, res: Response) => void

/**
 * A liveness probe handler: 200 `{"status":"ok"}` while the process answers. It never asks Redis:
 * the cache fails open, so a store outage is no reason to restart the pod.
 *
 * @example
 * ```ts
 * import { liveness } from '@cachewire/express'
 * app.get('/livez', liveness())
 * ```
 */
export function liveness(): ProbeHandler {
  return function cachewireLiveness(_req, res) {
    write(res, livenessAnswer())
  }
}

/**
 * A readiness probe handler for a cache (a `responseCache()`, or a core `Cache`): 200 with the
 * cache's health as JSON while the pod can serve, degraded included (the cache fails open: with
 * Redis down it serves from the origin); 503 only if `failWhenDegraded` is set and the cache is
 * degraded. A wrong Redis password shows as `cache.store.problem: "auth"` with Redis' own words.
 *
 * @example
 * ```ts
 * import { readiness, responseCache } from '@cachewire/express'
 * const cache = responseCache({ ttl: '1m', storage: { store } })
 * app.get('/readyz', readiness(cache, { timeout: '500ms' }))
 * ```
 */
export function readiness(target: HealthTarget, options?: HealthCheckOptions): ProbeHandler {
  const checks = createHealthChecks(target, options)
  return function cachewireReadiness(_req, res) {
    void checks.ready().then(
      (answer) => write(res, answer),
      () => write(res, { status: 503, headers: { 'cache-control': 'no-store' }, body: '' })
    )
  }
}

function write(res: Response, answer: HealthAnswer): void {
  res.status(answer.status).set(answer.headers).send(answer.body)
}
