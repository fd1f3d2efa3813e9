import { appendCacheStatus } from '../semantics/cache-status.js'
import { isNotModified } from '../semantics/conditional.js'
import { headerValue, notModifiedHeaders, withoutHopByHop } from '../semantics/headers.js'
import type { HeaderPair, HeaderPairs, ReplyOutcome, RequestHeaders } from '../types.js'
import { EMPTY_BODY } from './serve-stored.js'

/** Statuses without a body, which get no Content-Length (RFC 9110 §8.6). */
const BODYLESS_STATUSES: ReadonlySet<number> = new Set([204, 304])

/**
 * Turns a response the engine obtained from the handler (through runHandler) into a reply for
 * the client: hop-by-hop fields and the surrogate-key field removed, Content-Length set for the
 * buffered body, our Cache-Status member appended to upstream ones, and the client's own
 * conditional answered with a 304 (RFC 9111 §4.3.2, RFC 9110 §15.4.5). Set-Cookie passes through:
 * it is for this client, it just is never stored.
 *
 * @example
 * ```ts
 * originReply(request, { status: 200, pairs, body }, 'cachewire; fwd=stale; fwd-status=200', 'surrogate-key', Date.now())
 * ```
 */
export function originReply(
  request: { method: string; headers: RequestHeaders },
  response: { status: number; pairs: HeaderPairs; body: Buffer },
  cacheStatus: string,
  surrogateKeyHeader: string | undefined,
  now: number
): ReplyOutcome {
  const excluded = new Set(['cache-status'])
  if (surrogateKeyHeader !== undefined) excluded.add(surrogateKeyHeader)
  const headers: HeaderPair[] = withoutHopByHop(response.pairs, excluded)
  if (
    !BODYLESS_STATUSES.has(response.status) &&
    !headers.some(([name]) => name === 'content-length')
  ) {
    headers.push(['content-length', String(response.body.length)])
  }
  const status: HeaderPair = [
    'cache-status',
    appendCacheStatus(headerValue(response.pairs, 'cache-status'), cacheStatus),
  ]
  const validators = {
    status: response.status,
    etag: headerValue(headers, 'etag'),
    lastModified: headerValue(headers, 'last-modified'),
  }
  const conditional =
    request.headers['if-none-match'] !== undefined ||
    request.headers['if-modified-since'] !== undefined
  if (conditional && isNotModified(request.headers, validators, now)) {
    return {
      kind: 'not-modified',
      status: 304,
      headers: [...notModifiedHeaders(headers), status],
      body: EMPTY_BODY,
    }
  }
  return {
    kind: 'response',
    status: response.status,
    headers: [...headers, status],
    body: request.method === 'HEAD' ? EMPTY_BODY : response.body,
  }
}

/**
 * A response a route's own pass already answered (its Cache-Status included), passed on as it
 * is: only hop-by-hop fields are dropped, and a HEAD gets no body.
 *
 * @example
 * ```ts
 * passedOn(request, { status: 200, pairs, body })
 * ```
 */
export function passedOn(
  request: { method: string },
  response: { status: number; pairs: HeaderPairs; body: Buffer }
): ReplyOutcome {
  return {
    kind: 'response',
    status: response.status,
    headers: withoutHopByHop(response.pairs),
    body: request.method === 'HEAD' ? EMPTY_BODY : response.body,
  }
}
