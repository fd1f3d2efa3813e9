import { cdnHeaders } from '../cdn/cdn-headers.js'
import { notStoredReason, type Lookup } from '../entry/entry-store.js'
import { captureInput, collectTags, type Admission, type NotStored } from '../flows/admit.js'
import { marksPrivate, PRIVATE_LINE } from '../flows/deception-armor.js'
import { createForwardOutcome } from '../flows/forward.js'
import { invalidationTags, invalidationUrls } from '../flows/invalidation.js'
import type { Bypass, RequestContext } from '../request/prepare-request.js'
import { stripValidators } from '../request/strip-validators.js'
import { SAFE_METHODS } from '../request/eligibility.js'
import { remainingTtl, type Forward } from '../semantics/cache-status.js'
import { toHeaderPairs } from '../semantics/headers.js'
import { Reason } from '../semantics/reasons.js'
import type { ForwardOutcome, HeaderPairs, HttpRequest, MissOutcome } from '../types.js'
import type { EngineCore } from './core.js'

const NO_FIELDS: HeaderPairs = []
const ARMOR_FIELDS: HeaderPairs = [PRIVATE_LINE]

/**
 * A live handler run whose response may be stored; `lead` makes concurrent misses wait for it.
 * The route policy is read from `context` when the head is written and when the response is
 * admitted, so a route of the engine met downstream can still lend it (`adopt`).
 *
 * @example
 * ```ts
 * return forwardMiss(core, context, found, found.fwd, lead, undefined)
 * ```
 */
export function forwardMiss(
  core: EngineCore,
  context: RequestContext,
  found: Lookup,
  fwd: Forward,
  lead: boolean,
  detail: Reason | undefined
): MissOutcome {
  const { options } = core
  const leader = lead ? core.coalescer.lead(context.primaryHash) : undefined
  const requestTime = options.clock()
  const storable = context.method === 'GET' && !context.noStore
  let refused: NotStored | undefined
  // What became of the response once it was judged and written; unknown while the write runs.
  let verdict: { stored: true; ttl: number } | { stored: false; reason: Reason } | undefined
  return createForwardOutcome({
    kind: 'miss',
    reason: undefined,
    requestHeaders: stripValidators(context.request.headers),
    clientHeaders: context.request.headers,
    captureBody: storable,
    maxBodyBytes: options.maxEntryBytes,
    unsafeMethod: false,
    surrogateKeyHeader: options.surrogateKeyHeader,
    clock: options.clock,
    head: (status, pairs) => {
      // The adapters hold a response ended in one call (and its head) until its write settled:
      // then `stored` is what the store did, and nothing needs predicting. A head that went first
      // (a streamed body, Fastify) cannot know yet: on an in-process store the write cannot fail
      // once admitted, elsewhere it says nothing about storing rather than something that may be
      // untrue.
      const known = verdict
      let stored: boolean | undefined
      let ttl: number | undefined
      let notStoredReason: Reason | undefined
      if (known !== undefined) {
        stored = known.stored
        ttl = known.stored ? known.ttl : undefined
        notStoredReason = known.stored ? undefined : known.reason
      } else {
        const guess = storable
          ? core.predict(context, status, pairs)
          : {
              stored: false as const,
              reason: context.method === 'HEAD' ? Reason.Head : Reason.RequestNoStore,
            }
        refused = guess.stored ? undefined : guess
        stored = guess.stored ? (core.writesInProcess ? true : undefined) : false
        ttl = stored === true && guess.stored ? guess.ttl : undefined
        notStoredReason = guess.stored ? undefined : guess.reason
      }
      const member = core.status({
        fwd,
        fwdStatus: status,
        stored,
        ttl,
        detail: stored === false ? notStoredReason : detail,
      })
      // Undefined only for a response predicted storable whose write has not settled.
      const willStore = stored ?? true
      // Only a response the engine stores is announced to the CDN: never a private or Set-Cookie one.
      const fields = willStore ? cdnFields(core, context, pairs) : NO_FIELDS
      const armor = marksPrivate({
        enabled: core.privateIfCredentialed(context.route),
        headers: context.request.headers,
        scope: context.scope,
        stored: willStore,
        pairs,
      })
      return { member, capture: willStore, fields: armor ? [...fields, PRIVATE_LINE] : fields }
    },
    finish: async (captured) => {
      let admission: Admission | undefined
      const responseTime = options.clock()
      try {
        if (captured !== undefined && storable) {
          admission = core.admit(
            context,
            captureInput(captured, requestTime, responseTime, found.index),
            refused
          )
        }
      } finally {
        // Waiters share the response in process, whatever the store makes of it.
        leader?.settle(admission?.stored === true ? admission.entry : undefined)
      }
      if (admission === undefined) return
      if (!admission.stored) {
        verdict = { stored: false, reason: admission.reason }
        return
      }
      const written = await core.write(context, admission, found)
      if (written === 'stored')
        verdict = { stored: true, ttl: remainingTtl(admission.entry.staleAt, responseTime) }
      else if (written !== undefined) verdict = { stored: false, reason: notStoredReason(written) }
    },
    adopt: (route) => {
      core.observer.adopted(context.route, route)
      context.route = route
    },
    release: () => {
      leader?.settle(undefined)
      core.observer.retract('miss', undefined, context.route)
    },
  }) as MissOutcome
}

/**
 * A request that goes around the cache: counted and tripped now, and for an unsafe method its
 * URL (and same-host Location / Content-Location, RFC 9111 §4.4) invalidated once it succeeded.
 *
 * @example
 * ```ts
 * return forwardBypass(core, request, { reason: Reason.Cookie, invalidation: undefined })
 * ```
 */
export function forwardBypass(
  core: EngineCore,
  request: HttpRequest,
  bypass: Bypass
): ForwardOutcome {
  const { reason, invalidation } = bypass
  const { options } = core
  core.observer.bypassed(request, reason)
  core.trip(reason)
  // RFC 9211 §2.2: `method` when the method itself sends the request forward.
  const fwd: Forward = reason === Reason.Method ? 'method' : 'bypass'
  return createForwardOutcome({
    kind: 'bypass',
    reason,
    requestHeaders: request.headers,
    clientHeaders: undefined,
    captureBody: false,
    maxBodyBytes: 0,
    unsafeMethod: !SAFE_METHODS.has(request.method),
    surrogateKeyHeader: options.surrogateKeyHeader,
    clock: options.clock,
    head: (status, pairs) => {
      const armor = marksPrivate({
        enabled: core.privateIfCredentialed(request.route),
        headers: request.headers,
        scope: 'shared',
        stored: false,
        pairs,
      })
      return {
        member: core.status({ fwd, fwdStatus: status, detail: reason }),
        capture: false,
        fields: armor ? ARMOR_FIELDS : NO_FIELDS,
      }
    },
    finish: async (captured) => {
      if (invalidation === undefined || captured === undefined) return
      try {
        const pairs = toHeaderPairs(captured.headers)
        const tags = invalidationTags(captured.status, pairs, invalidation, options.query)
        if (tags.length > 0) await core.invalidateTags(tags)
        const urls =
          tags.length > 0 && options.purgeHooks.length > 0
            ? invalidationUrls(captured.status, pairs, invalidation, options.query)
            : []
        if (urls.length > 0) await core.notifyPurge({ kind: 'url', tags: [], urls })
      } catch (error) {
        core.report(error)
      }
    },
    adopt: () => {},
    release: () => {
      core.observer.retract('bypass', reason, request.route)
      core.untrip(reason)
    },
  })
}

function cdnFields(core: EngineCore, context: RequestContext, pairs: HeaderPairs): HeaderPairs {
  // A per-user entry is never announced to a CDN: it would share it by URL.
  const cdn = context.scope === 'private' ? undefined : core.cdnFor(context.route)
  if (cdn === undefined) return NO_FIELDS
  try {
    return cdnHeaders(cdn, collectTags(context, pairs, core.options))
  } catch (error) {
    core.report(error)
    return NO_FIELDS
  }
}
