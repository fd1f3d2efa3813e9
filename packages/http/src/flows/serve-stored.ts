import { appendCacheStatus } from '../semantics/cache-status.js'
import { isNotModified } from '../semantics/conditional.js'
import { currentAge } from '../semantics/freshness.js'
import type { ReplyOutcome, RequestHeaders, StoredResponse } from '../types.js'

/** Shared zero-length body; a Buffer of length 0 cannot be written to. */
const EMPTY_BODY: Buffer = Buffer.alloc(0)

/**
 * Answers a request from a stored response: a 304 when the client's own conditional matches
 * (RFC 9111 §4.3.2, with the RFC 9110 §15.4.5 subset of fields), else the stored status,
 * headers and body (no body for HEAD, RFC 9110 §9.3.2). Age (RFC 9111 §5.1) and our
 * Cache-Status member are appended. Range is ignored and the full response sent, which
 * RFC 9110 §14.2 permits. Nothing is parsed or hashed here: the entry holds the wire form.
 *
 * @example
 * ```ts
 * serveStored(entry, { method: 'GET', headers: req.headers }, Date.now(), 'cachewire; hit; ttl=30', 'hit')
 * ```
 */
export function serveStored(
  entry: StoredResponse,
  request: { method: string; headers: RequestHeaders },
  now: number,
  cacheStatus: string,
  kind: 'hit' | 'response'
): ReplyOutcome {
  const age = String(Math.floor(currentAge(entry, now) / 1000))
  const status = appendCacheStatus(entry.upstreamCacheStatus, cacheStatus)
  const hasConditional =
    request.headers['if-none-match'] !== undefined || request.headers['if-modified-since'] !== undefined
  if (hasConditional && isNotModified(request.headers, entry)) {
    return {
      kind: 'not-modified',
      status: 304,
      headers: [...entry.notModifiedHeaders, ['age', age], ['cache-status', status]],
      body: EMPTY_BODY,
    }
  }
  return {
    kind,
    status: entry.status,
    headers: [...entry.headers, ['age', age], ['cache-status', status]],
    body: request.method === 'HEAD' ? EMPTY_BODY : entry.body,
  }
}

/**
 * RFC 9111 §5.2.1.7: a request with only-if-cached that the cache cannot answer gets a 504.
 *
 * @example
 * ```ts
 * gatewayTimeout('cachewire; detail=only-if-cached')
 * ```
 */
export function gatewayTimeout(cacheStatus: string): ReplyOutcome {
  return {
    kind: 'response',
    status: 504,
    headers: [
      ['content-length', '0'],
      ['cache-status', cacheStatus],
    ],
    body: EMPTY_BODY,
  }
}

export { EMPTY_BODY }
