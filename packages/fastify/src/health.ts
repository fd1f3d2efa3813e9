import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  createHealthChecks,
  livenessAnswer,
  type HealthAnswer,
  type HealthCheckOptions,
  type HealthTarget,
} from '@cachewire/http/operations'

/** A Fastify route handler answering a probe. */
export type ProbeHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>

/**
 * A liveness probe handler: 200 `{"status":"ok"}` while the process answers. It never asks Redis:
 * the cache fails open, so a store outage is no reason to restart the pod.
 *
 * @example
 * ```ts
 * import { liveness } from '@cachewire/fastify'
 * app.get('/livez', liveness())
 * ```
 */
export function liveness(): ProbeHandler {
  return async function cachewireLiveness(_request, reply) {
    return write(reply, livenessAnswer())
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
 * import { readiness, responseCache } from '@cachewire/fastify'
 * const cache = responseCache({ ttl: '1m', storage: { store } })
 * app.get('/readyz', readiness(cache, { timeout: '500ms' }))
 * ```
 */
export function readiness(target: HealthTarget, options?: HealthCheckOptions): ProbeHandler {
  const checks = createHealthChecks(target, options)
  // `ready()` never rejects: a failed health check is its own 503 answer.
  return async function cachewireReadiness(_request, reply) {
    return write(reply, await checks.ready())
  }
}

function write(reply: FastifyReply, answer: HealthAnswer): FastifyReply {
  // The body is JSON text already: sent as is, with the answer's own Content-Type.
  return reply.code(answer.status).headers(answer.headers).send(answer.body)
}
