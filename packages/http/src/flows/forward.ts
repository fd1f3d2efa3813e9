import { appendCacheStatus } from '../semantics/cache-status.js'
import { isNotModified } from '../semantics/conditional.js'
import { headerValue, notModifiedHeaders, toHeaderPairs } from '../semantics/headers.js'
import type { Reason } from '../semantics/reasons.js'
import type {
  CapturedResponse,
  ForwardOutcome,
  HeaderPairs,
  RequestHeaders,
  ResponseHeaders,
  ResponsePatch,
  RoutePolicy,
} from '../types.js'

/** What the engine says about a live response head. */
export interface HeadVerdict {
  /** Our Cache-Status member. */
  member: string
  /** Whether the body is still wanted (false: the response will not be stored). */
  capture: boolean
  /** Lines to add (CDN fields), each replacing a line of the same name. */
  fields: HeaderPairs
}

export type ForwardParams = ForwardCommon &
  ({ kind: 'miss'; reason: undefined } | { kind: 'bypass'; reason: Reason })

interface ForwardCommon {
  /** What the handler sees (stripped of validators on a miss). */
  requestHeaders: RequestHeaders
  /** The client's own headers, for answering its conditional on a miss; undefined on a bypass. */
  clientHeaders: RequestHeaders | undefined
  captureBody: boolean
  maxBodyBytes: number
  /** The request's method is unsafe: its invalidation settles before the response ends. */
  unsafeMethod: boolean
  /** Lower-case surrogate-key field, removed before the response leaves. */
  surrogateKeyHeader: string | undefined
  /** The engine's clock (RFC 9110 §5.6.7: two-digit years of obsolete dates). */
  clock: () => number
  /** The engine's verdict on a response head. */
  head: (status: number, pairs: HeaderPairs) => HeadVerdict
  /** Receives the captured response; must not reject. */
  finish: (captured: CapturedResponse | undefined) => Promise<void>
  adopt: (route: RoutePolicy) => void
  release: () => void
}

/**
 * Builds the outcome that tells an adapter to run the handler live. Its `patch` strips the
 * surrogate-key field, appends our Cache-Status member (RFC 9211 §2: after any upstream ones),
 * adds the CDN fields the engine asks for (a handler's own lines win), and on a miss answers the
 * client's own conditional (whose fields were removed before the handler ran) by turning a
 * matching 2xx into a 304 with the RFC 9110 §15.4.5 fields. `finish` runs once, and not at all
 * after `release`.
 *
 * @example
 * ```ts
 * const outcome = createForwardOutcome({ kind: 'bypass', reason: 'cookie', ...params })
 * ```
 */
export function createForwardOutcome(params: ForwardParams): ForwardOutcome {
  let finished: Promise<void> | undefined
  let released = false
  // One literal, kind and reason included: V8 (Node 20) adds each property to an object spread's
  // copy through its runtime, about a microsecond apiece (`{ ...common, kind }` cost two per miss;
  // bench/object-spread.mjs). `kind` and `reason` come from `params` together, so the pair is one
  // of the union's.
  return {
    kind: params.kind,
    reason: params.reason,
    requestHeaders: params.requestHeaders,
    captureBody: params.captureBody,
    maxBodyBytes: params.maxBodyBytes,
    storeBeforeEnd: params.captureBody,
    invalidateBeforeEnd: params.unsafeMethod,
    patch: (status: number, headers: ResponseHeaders) => patchResponse(params, status, headers),
    finish: (captured: CapturedResponse | undefined) =>
      (finished ??= released ? Promise.resolve() : params.finish(captured)),
    adopt: (route: RoutePolicy) => params.adopt(route),
    release: () => {
      if (released || finished !== undefined) return
      released = true
      params.release()
    },
  } as ForwardOutcome
}

function patchResponse(
  params: ForwardParams,
  status: number,
  headers: ResponseHeaders
): ResponsePatch {
  const pairs = toHeaderPairs(headers)
  const remove: string[] = []
  const surrogate = params.surrogateKeyHeader
  if (surrogate !== undefined && pairs.some(([name]) => name === surrogate)) remove.push(surrogate)
  const verdict = params.head(status, pairs)
  const fields = verdict.fields.filter(
    ([name]) => name === 'surrogate-key' || !pairs.some(([own]) => own === name)
  )
  const named = new Set(fields.map(([name]) => name))
  const set: HeaderPairs = [
    ['cache-status', appendCacheStatus(headerValue(pairs, 'cache-status'), verdict.member)],
    ...fields,
  ]
  const kept = remove.filter((name) => !named.has(name))
  const captureBody = params.captureBody && verdict.capture
  const client = params.clientHeaders
  const conditional =
    client !== undefined &&
    (client['if-none-match'] !== undefined || client['if-modified-since'] !== undefined)
  if (
    conditional &&
    isNotModified(
      client,
      {
        status,
        etag: headerValue(pairs, 'etag'),
        lastModified: headerValue(pairs, 'last-modified'),
      },
      params.clock()
    )
  ) {
    const keep = new Set(notModifiedHeaders(pairs).map(([name]) => name))
    keep.add('cache-status')
    for (const [name] of pairs) if (!keep.has(name) && !kept.includes(name)) kept.push(name)
    return { status: 304, remove: kept, set, omitBody: true, captureBody }
  }
  return { status, remove: kept, set, omitBody: false, captureBody }
}
