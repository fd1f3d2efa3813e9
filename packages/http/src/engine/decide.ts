import type { Lookup } from '../entry/entry-store.js'
import { selectsVariant } from '../flows/admit.js'
import { COALESCE_TIMEOUT } from '../flows/coalesce.js'
import { hasValidator } from '../flows/revalidate.js'
import { revalidate } from '../flows/revalidation-flow.js'
import { traceBase, traceRevalidation } from '../observability/tracing.js'
import { gatewayTimeout } from '../flows/serve-stored.js'
import { decideStored, withinStaleIfError } from '../flows/stale.js'
import type { RequestContext } from '../request/prepare-request.js'
import { remainingTtl } from '../semantics/cache-status.js'
import { requestUsability } from '../semantics/freshness.js'
import { Reason } from '../semantics/reasons.js'
import type { Outcome, ReplyOutcome, RunHandler, StoredResponse } from '../types.js'
import type { EngineCore } from './core.js'
import { forwardBypass, forwardMiss } from './forward.js'

/**
 * A request whose lookup found an entry: serve it (fresh, or stale while refreshing), answer
 * only-if-cached, run the handler live, or revalidate through `runHandler`. Synchronous unless
 * the handler must run before the answer.
 *
 * @example
 * ```ts
 * const outcome = fromStored(core, context, found, runHandler, refresh)
 * ```
 */
export function fromStored(core: EngineCore, context: RequestContext, found: Lookup, runHandler: RunHandler, refresh: RunHandler | undefined): Outcome | Promise<Outcome> {
  const entry = found.entry as StoredResponse
  const now = core.clock()
  // RFC 9111 §3.5: a request with Authorization is answered only from explicitly shareable entries.
  if (context.authorization && !entry.sharedWithAuthorization) return forwardMiss(core, context, found, 'request', false, Reason.Authorization)
  const decision = decideStored(entry, context.directives, now, {
    respectRequest: core.options.honourRequestDirectives,
    canRefresh: refresh !== undefined,
  })
  const ttl = remainingTtl(entry.staleAt, now)
  if (decision.action === 'serve') return core.serve(entry, context, now, core.status({ hit: true, ttl }))
  if (decision.action === 'serve-stale-and-refresh') {
    core.refresh(context, found, refresh as RunHandler)
    return core.serve(entry, context, now, core.status({ hit: true, ttl, detail: Reason.StaleWhileRevalidate }))
  }
  // RFC 9111 §5.2.1.7: only-if-cached never goes forward.
  if (context.directives['only-if-cached'] === true) return gatewayTimeout(core.status({ detail: Reason.OnlyIfCached }))
  // HEAD has no body to renew the entry with; and without a validator or a stale-if-error
  // window a buffered run adds nothing: run the handler live, as on a miss.
  if (context.method === 'HEAD' || (!hasValidator(entry) && !withinStaleIfError(entry, now))) {
    return forwardMiss(core, context, found, decision.fwd, false, undefined)
  }
  return traceRevalidation(() => traceBase(context), 'foreground', (trace) => revalidate(core, context, found, decision.fwd, runHandler, trace))
}

/**
 * A request whose lookup found nothing: only-if-cached gets a 504, a flood of new keys is served
 * uncached, and concurrent misses for one key share one handler run (credential-less GETs only).
 *
 * @example
 * ```ts
 * const outcome = miss(core, context, found)
 * ```
 */
export function miss(core: EngineCore, context: RequestContext, found: Lookup): Outcome | Promise<Outcome> {
  if (context.directives['only-if-cached'] === true) return gatewayTimeout(core.status({ detail: Reason.OnlyIfCached }))
  // A flood of new keys (cache busting) is served uncached rather than evicting useful entries.
  if (context.limit !== false && !core.guard.admit(context.limit, context.group, context.primaryHash)) {
    return forwardBypass(core, context.request, { reason: Reason.Cardinality, invalidation: undefined })
  }
  // Requests with credentials never share a handler run: their response may be personal.
  if (!core.options.coalesce.enabled || context.authorization) return forwardMiss(core, context, found, found.fwd, false, undefined)
  const waiting = core.coalescer.join(context.primaryHash)
  // Only a request whose response can be stored may lead: HEAD and no-store ones never share.
  const lead = context.method === 'GET' && !context.noStore
  if (waiting === undefined) return forwardMiss(core, context, found, found.fwd, lead, undefined)
  return waiting.then((shared): Outcome => {
    const now = core.clock()
    if (
      shared !== COALESCE_TIMEOUT &&
      shared !== undefined &&
      selectsVariant(shared, context) &&
      requestUsability(shared, context.directives, now, core.options.honourRequestDirectives) === 'usable'
    ) {
      const ttl = remainingTtl(shared.staleAt, now)
      return core.serve(shared, context, now, core.status({ fwd: found.fwd, fwdStatus: shared.status, collapsed: true, ttl }))
    }
    // Not stored (perhaps personal), another variant, or too slow: run the handler ourselves.
    return forwardMiss(core, context, found, found.fwd, false, shared === COALESCE_TIMEOUT ? Reason.CoalesceTimeout : undefined)
  })
}

/**
 * For a front door: what a stored response can answer as it stands (a fresh hit, or a 304 from
 * it), or `undefined` (RFC 9111 §3.5, §4.2), with nothing recorded for a request it leaves.
 *
 * @example
 * ```ts
 * const reply = frontDoorReply(core, context, found)
 * ```
 */
export function frontDoorReply(core: EngineCore, context: RequestContext, found: Lookup): ReplyOutcome | undefined {
  const entry = found.entry
  if (entry === undefined) return undefined
  if (context.authorization && !entry.sharedWithAuthorization) return undefined
  const now = core.clock()
  const decision = decideStored(entry, context.directives, now, { respectRequest: core.options.honourRequestDirectives, canRefresh: false })
  if (decision.action !== 'serve') return undefined
  core.observer.frontDoorHit(context, entry)
  return core.serve(entry, context, now, core.status({ hit: true, ttl: remainingTtl(entry.staleAt, now) }))
}
