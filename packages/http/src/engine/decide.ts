import type { Lookup } from '../entry/entry-store.js'
import { selectsVariant } from '../flows/admit.js'
import { COALESCE_TIMEOUT } from '../flows/coalesce.js'
import { hasValidator } from '../flows/revalidate.js'
import { revalidate } from '../flows/revalidation-flow.js'
import { traceBase, traceRevalidation } from '../observability/tracing.js'
import { gatewayTimeout } from '../flows/serve-stored.js'
import { decideStored, withinStaleIfError, type StoredDecision } from '../flows/stale.js'
import type { RequestContext } from '../request/prepare-request.js'
import { remainingTtl, type Forward } from '../semantics/cache-status.js'
import { requestUsability } from '../semantics/freshness.js'
import { Reason } from '../semantics/reasons.js'
import type { Outcome, ReplyOutcome, RunHandler, StoredResponse } from '../types.js'
import type { EngineCore } from './core.js'
import { forwardBypass, forwardMiss } from './forward.js'

/**
 * A request whose lookup found an entry: serve it (fresh, or stale while refreshing), answer
 * only-if-cached, run the handler live, or revalidate through `runHandler`. Synchronous unless
 * the handler must run before the answer. A revalidation the client forces (its request
 * directives, when honoured) shares a run already under way for the key, and happens at most
 * once per key per second; past that the entry, just validated, answers.
 *
 * @example
 * ```ts
 * const outcome = fromStored(core, context, found, runHandler, refresh)
 * ```
 */
export function fromStored(
  core: EngineCore,
  context: RequestContext,
  found: Lookup,
  runHandler: RunHandler,
  refresh: RunHandler | undefined
): Outcome | Promise<Outcome> {
  const entry = found.entry as StoredResponse
  const now = found.readAt ?? core.clock()
  // RFC 9111 §3.5: a request with Authorization is answered only from explicitly shareable entries.
  if (context.authorization && !entry.sharedWithAuthorization)
    return forwardMiss(core, context, found, 'request', false, Reason.Authorization)
  const policy = {
    respectRequest: core.options.honourRequestDirectives,
    canRefresh: refresh !== undefined,
  }
  let decision = decideStored(entry, context.directives, now, policy)
  let lead = false
  // As on a miss, only a credential-less GET whose response can be stored leads others.
  const mayLead = context.method === 'GET' && !context.noStore && !context.authorization
  if (decision.action === 'revalidate' && decision.fwd === 'request') {
    const waiting = core.coalescer.join(context.primaryHash, context.ticket)
    if (waiting !== undefined) {
      return collapse(core, context, found, waiting, 'request', () =>
        fromUnforced(core, context, found, runHandler, refresh)
      )
    }
    if (core.forced.admit(context.primaryHash, now)) lead = mayLead
    else
      decision = decideStored(entry, context.directives, now, { ...policy, respectRequest: false })
  } else if (
    decision.action === 'revalidate' &&
    core.options.coalesce.enabled &&
    !context.authorization
  ) {
    // An expired hot entry: one revalidation for all the requests that found it stale.
    const waiting = core.coalescer.join(context.primaryHash, context.ticket)
    if (waiting !== undefined) {
      const stale = decision
      return collapse(core, context, found, waiting, stale.fwd, () =>
        act(core, context, found, stale, core.clock(), false, runHandler, refresh)
      )
    }
    lead = mayLead
  }
  return act(core, context, found, decision, now, lead, runHandler, refresh)
}

/** The same request, its forcing directives set aside (a forced run just ended without a reusable answer). */
function fromUnforced(
  core: EngineCore,
  context: RequestContext,
  found: Lookup,
  runHandler: RunHandler,
  refresh: RunHandler | undefined
): Outcome | Promise<Outcome> {
  const now = core.clock()
  const decision = decideStored(found.entry as StoredResponse, context.directives, now, {
    respectRequest: false,
    canRefresh: refresh !== undefined,
  })
  return act(core, context, found, decision, now, false, runHandler, refresh)
}

function act(
  core: EngineCore,
  context: RequestContext,
  found: Lookup,
  decision: StoredDecision,
  now: number,
  lead: boolean,
  runHandler: RunHandler,
  refresh: RunHandler | undefined
): Outcome | Promise<Outcome> {
  const entry = found.entry as StoredResponse
  const ttl = remainingTtl(entry.staleAt, now)
  if (decision.action === 'serve')
    return core.serve(entry, context, now, core.status({ hit: true, ttl }))
  if (decision.action === 'serve-stale-and-refresh') {
    core.refresh(context, found, refresh as RunHandler)
    return core.serve(
      entry,
      context,
      now,
      core.status({ hit: true, ttl, detail: Reason.StaleWhileRevalidate })
    )
  }
  // RFC 9111 §5.2.1.7: only-if-cached never goes forward.
  if (context.directives['only-if-cached'] === true)
    return gatewayTimeout(core.status({ detail: Reason.OnlyIfCached }))
  // HEAD has no body to renew the entry with; and without a validator or a stale-if-error
  // window a buffered run adds nothing: run the handler live, as on a miss.
  if (context.method === 'HEAD' || (!hasValidator(entry) && !withinStaleIfError(entry, now))) {
    // Only a forced revalidation leads a live run: an expired entry's waiters are led by buffered
    // revalidations alone, which settle whatever the handler does.
    return forwardMiss(
      core,
      context,
      found,
      decision.fwd,
      lead && decision.fwd === 'request',
      undefined
    )
  }
  const leader = lead ? core.coalescer.lead(context.primaryHash) : undefined
  return traceRevalidation(
    () => traceBase(context),
    'foreground',
    (trace) => revalidate(core, context, found, decision.fwd, runHandler, leader, trace)
  )
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
export function miss(
  core: EngineCore,
  context: RequestContext,
  found: Lookup
): Outcome | Promise<Outcome> {
  if (context.directives['only-if-cached'] === true)
    return gatewayTimeout(core.status({ detail: Reason.OnlyIfCached }))
  // A flood of new keys (cache busting) is served uncached rather than evicting useful entries.
  if (
    context.limit !== false &&
    !core.guard.admit(
      context.limit,
      // Keys are counted per route policy, else per host and path: built here, on a miss only.
      context.route ?? `${context.protocol}://${context.authority}${context.path}`,
      context.primaryHash
    )
  ) {
    return forwardBypass(core, context.request, {
      reason: Reason.Cardinality,
      invalidation: undefined,
    })
  }
  // Requests with credentials never share a handler run: their response may be personal.
  if (!core.options.coalesce.enabled || context.authorization)
    return forwardMiss(core, context, found, found.fwd, false, undefined)
  const waiting = core.coalescer.join(context.primaryHash, context.ticket)
  // Only a request whose response can be stored may lead: HEAD and no-store ones never share.
  const lead = context.method === 'GET' && !context.noStore
  if (waiting === undefined) return forwardMiss(core, context, found, found.fwd, lead, undefined)
  return collapse(core, context, found, waiting, found.fwd, (timedOut) =>
    // Not stored (perhaps personal), another variant, or too slow: run the handler ourselves.
    forwardMiss(
      core,
      context,
      found,
      found.fwd,
      false,
      timedOut ? Reason.CoalesceTimeout : undefined
    )
  )
}

/**
 * Waits for the run under way for the key and answers with what it stored, when that is the
 * variant this request selects and fresh. The response was made after the run began, which a
 * request's no-cache or max-age=0 accepts as validated (RFC 9111 §4: requests may be collapsed).
 */
function collapse(
  core: EngineCore,
  context: RequestContext,
  found: Lookup,
  waiting: Promise<StoredResponse | undefined | typeof COALESCE_TIMEOUT>,
  fwd: Forward,
  otherwise: (timedOut: boolean) => Outcome | Promise<Outcome>
): Promise<Outcome> {
  return waiting.then((shared): Outcome | Promise<Outcome> => {
    const now = core.clock()
    if (
      shared !== COALESCE_TIMEOUT &&
      shared !== undefined &&
      selectsVariant(shared, context) &&
      // RFC 9111 §3.5, as for a hit: Authorization is answered only from explicitly shareable entries.
      (!context.authorization || shared.sharedWithAuthorization) &&
      requestUsability(shared, context.directives, now, false) === 'usable'
    ) {
      const ttl = remainingTtl(shared.staleAt, now)
      return core.serve(
        shared,
        context,
        now,
        core.status({ fwd, fwdStatus: shared.status, collapsed: true, ttl })
      )
    }
    return otherwise(shared === COALESCE_TIMEOUT)
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
export function frontDoorReply(
  core: EngineCore,
  context: RequestContext,
  found: Lookup
): ReplyOutcome | undefined {
  const entry = found.entry
  if (entry === undefined) return undefined
  if (context.authorization && !entry.sharedWithAuthorization) return undefined
  const now = found.readAt ?? core.clock()
  const decision = decideStored(entry, context.directives, now, {
    respectRequest: core.options.honourRequestDirectives,
    canRefresh: false,
  })
  if (decision.action !== 'serve') return undefined
  core.observer.frontDoorHit(context, entry)
  return core.serve(
    entry,
    context,
    now,
    core.status({ hit: true, ttl: remainingTtl(entry.staleAt, now) })
  )
}
