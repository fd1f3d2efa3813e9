import type { FastifyRequest } from 'fastify'
import type { HttpRequest } from '@cachewire/http'

/**
 * Translates a Fastify request into the engine's neutral request.
 *
 * - `url` is `request.originalUrl`: the target as the client sent it, before any `rewriteUrl`,
 *   the same a front door sees.
 * - `host` and `protocol` are Fastify's own (`request.host` on Fastify 5, `request.hostname` on
 *   4, both with the port; `request.protocol`), so `trustProxy` is honoured the way the app
 *   honours it.
 * - `forwarded` names X-Forwarded-Host / X-Forwarded-Proto when Fastify applied them for this
 *   request (see {@link appliedForwarded}): they are keyed through `host` and `protocol`, so they
 *   do not bypass as unkeyed headers, as long as the key holds exactly their value (the engine
 *   checks: an X-Forwarded-Host list, whose last member Fastify reads, still bypasses).
 */
export function toHttpRequest(request: FastifyRequest, route: HttpRequest['route']): HttpRequest {
  return {
    method: request.raw.method ?? 'GET',
    url: request.originalUrl,
    headers: request.raw.headers,
    host: requestHost(request),
    protocol: request.protocol === 'https' ? 'https' : 'http',
    route,
    forwarded: appliedForwarded(request),
    native: request,
  }
}

/** The host with its port, as Fastify resolved it: `request.host` (Fastify 5), `request.hostname` (Fastify 4). */
export function requestHost(request: FastifyRequest): string {
  const host = (request as { host?: unknown }).host
  if (typeof host === 'string') return host
  const hostname = (request as { hostname?: unknown }).hostname
  return typeof hostname === 'string' ? hostname : ''
}

/** A value no client sends, to see whether Fastify reads a forwarded field. */
const PROBE = 'cachewire-probe.invalid'
const FORWARDED_HOST: readonly string[] = Object.freeze(['x-forwarded-host'])
const FORWARDED_PROTO: readonly string[] = Object.freeze(['x-forwarded-proto'])
const FORWARDED_BOTH: readonly string[] = Object.freeze(['x-forwarded-host', 'x-forwarded-proto'])

/**
 * The forwarded fields Fastify applies to this request's host and protocol. Fastify does not
 * expose its `trustProxy` decision, and it differs by major (Fastify 4 applies both fields under
 * any `trustProxy`; Fastify 5 only from a trusted peer), so the request's own getters are asked:
 * on a view of the request whose fields hold a probe value, a getter that returns the probe reads
 * the field. Only requests that carry one of the fields pay for this.
 */
export function appliedForwarded(request: FastifyRequest): readonly string[] | undefined {
  const headers = request.raw.headers
  const host = headers['x-forwarded-host'] !== undefined
  const proto = headers['x-forwarded-proto'] !== undefined
  if (!host && !proto) return undefined
  const probe = Object.create(request, {
    headers: { value: { ...headers, 'x-forwarded-host': PROBE, 'x-forwarded-proto': PROBE } },
  }) as FastifyRequest
  const hostApplied = host && requestHost(probe) === PROBE
  const protoApplied = proto && probe.protocol === (PROBE as string)
  if (hostApplied && protoApplied) return FORWARDED_BOTH
  if (hostApplied) return FORWARDED_HOST
  return protoApplied ? FORWARDED_PROTO : undefined
}
