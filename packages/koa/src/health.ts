import type { Context, Middleware } from 'koa'
import {
  createHealthChecks,
  livenessAnswer,
  type HealthAnswer,
  type HealthCheckOptions,
  type HealthTarget,
} from '@cachewire/http/operations'

/**
 * Koa middleware answering a liveness probe: 200 `{"status":"ok"}` while the process answers. It
 * never asks Redis: the cache fails open, so a store outage is no reason to restart the pod.
 * Mount it on a route (`router.get('/livez', liveness())`); it answers every request it gets.
 *
 * @example
 * ```ts
 * import Router from '@koa/router'
 * import { liveness } from '@cachewire/koa'
 * router.get('/livez', liveness())
 * ```
 */
export function liveness(): Middleware {
  return function cachewireLiveness(ctx: Context): void {
    write(ctx, livenessAnswer())
  }
}

/**
 * Koa middleware answering a readiness probe for a cache (a `responseCache()`, or a core
 * `Cache`): 200 with the cache's health as JSON while the pod can serve, degraded included (the
 * cache fails open: with Redis down it serves from the origin); 503 only if `failWhenDegraded`
 * is set and the cache is degraded. A wrong Redis password shows as `cache.store.problem: "auth"`.
 *
 * @example
 * ```ts
 * import { readiness, responseCache } from '@cachewire/koa'
 * const cache = responseCache({ ttl: '1m', storage: { store } })
 * router.get('/readyz', readiness(cache, { timeout: '500ms' }))
 * ```
 */
export function readiness(target: HealthTarget, options?: HealthCheckOptions): Middleware {
  const checks = createHealthChecks(target, options)
  return async function cachewireReadiness(ctx: Context): Promise<void> {
    write(ctx, await checks.ready())
  }
}

function write(ctx: Context, answer: HealthAnswer): void {
  ctx.status = answer.status
  ctx.set(answer.headers)
  ctx.body = answer.body
}
