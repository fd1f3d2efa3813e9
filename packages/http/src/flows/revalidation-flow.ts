import { notStoredReason, type Lookup, type WriteOutcome } from '../entry/entry-store.js'
import type { RequestContext } from '../request/prepare-request.js'
import { remainingTtl, type CacheStatusParams, type Forward } from '../semantics/cache-status.js'
import { Reason } from '../semantics/reasons.js'
import type { RevalidateTraceContext } from '../observability/tracing.js'
import type {
  CapturedResponse,
  HeaderPairs,
  ReplyOutcome,
  RunHandler,
  StoredResponse,
} from '../types.js'
import { captureInput, type Admission, type AdmitInput } from './admit.js'
import type { CoalesceLeader } from './coalesce.js'
import { PRIVATE_LINE } from './deception-armor.js'
import { originReply, passedOn } from './origin-reply.js'
import { classifyRevalidation, revalidationRequest, type RevalidationAnswer } from './revalidate.js'
import { serveStored } from './serve-stored.js'
import { withinStaleIfError } from './stale.js'

/** The engine services the revalidation flows use; the engine stays the only owner of state. */
export interface RevalidationServices {
  clock: () => number
  /** Storability plus entry building; never throws. */
  admit(context: RequestContext, input: AdmitInput): Admission
  /** Stores an entry; resolves what the store did, or undefined when it has not answered in time. */
  write(
    context: RequestContext,
    admission: Admission & { stored: true },
    found: Lookup
  ): Promise<WriteOutcome | undefined>
  remove(hash: string | undefined): Promise<void>
  /** Our Cache-Status member (detail dropped unless debug). */
  status(params: CacheStatusParams): string
  /** Deception armor: whether a response the engine does not store goes out `Cache-Control: private`. */
  marksPrivate(context: RequestContext, pairs: HeaderPairs): boolean
  /** Runs work in the background, for `whenIdle`. */
  track(work: Promise<void>): void
  surrogateKeyHeader: string | undefined
}

/**
 * Marks a rejection of the handler, which `handle` passes on, apart from the engine's own failures.
 *
 * @example
 * ```ts
 * if (error instanceof HandlerFailure) throw error.error
 * ```
 */
export class HandlerFailure {
  readonly error: unknown
  constructor(error: unknown) {
    this.error = error
  }
}

/**
 * Foreground revalidation of a stored response (RFC 9111 §4.3): a conditional request through
 * runHandler when the entry has a validator. A 304 updates the stored headers and freshness
 * (§3.2, §4.3.4) and the client gets the stored response, or a 304 if its own conditional
 * matches; a 5xx or a thrown handler is answered from the stale entry within stale-if-error
 * (RFC 5861 §4); any other answer replaces the entry, or removes it when it may not be stored.
 * Rejects with a HandlerFailure when the handler threw and nothing may stand in. A route of the
 * engine met downstream either lends its policy (`adopted`) or answered through its own pass
 * (`superseded`: the answer is passed on untouched). With `leader`, requests waiting for this run
 * are woken with what it stored (or nothing).
 *
 * @example
 * ```ts
 * const outcome = await revalidate(services, context, found, 'stale', runHandler)
 * ```
 */
export async function revalidate(
  services: RevalidationServices,
  context: RequestContext,
  found: Lookup,
  fwd: Forward,
  runHandler: RunHandler,
  leader?: CoalesceLeader<StoredResponse>,
  trace?: RevalidateTraceContext
): Promise<ReplyOutcome> {
  if (leader === undefined)
    return revalidateOnce(services, context, found, fwd, runHandler, undefined, trace)
  // Requests waiting for this run get what it stored, or run themselves. Settled after the store
  // write, not at admission: a request that looks up in between would still find the stale entry
  // and, holding a later ticket, revalidate again (tested: 200 requests, one revalidation).
  const stored: { entry?: StoredResponse } = {}
  try {
    return await revalidateOnce(services, context, found, fwd, runHandler, stored, trace)
  } finally {
    leader.settle(stored.entry)
  }
}

async function revalidateOnce(
  services: RevalidationServices,
  context: RequestContext,
  found: Lookup,
  fwd: Forward,
  runHandler: RunHandler,
  stored: { entry?: StoredResponse } | undefined,
  trace: RevalidateTraceContext | undefined
): Promise<ReplyOutcome> {
  const entry = found.entry as StoredResponse
  const { request } = context
  const requestTime = services.clock()
  let captured: CapturedResponse
  try {
    captured = await runHandler(revalidationRequest(request, entry, context.handlerUrl))
  } catch (error) {
    const now = services.clock()
    if (!withinStaleIfError(entry, now)) throw new HandlerFailure(error)
    note(trace, 'stale-if-error', undefined, undefined)
    const status = services.status({
      fwd: 'stale',
      ttl: remainingTtl(entry.staleAt, now),
      detail: Reason.StaleIfError,
    })
    return serveStored(entry, request, now, status, 'hit')
  }
  const responseTime = services.clock()
  const input = captureInput(captured, requestTime, responseTime, found.index)
  // A route with a key of its own ran its own pass downstream: its answer goes out as it is.
  if (captured.route === 'superseded')
    return note(trace, 'superseded', captured.status, passedOn(request, input))
  if (captured.route !== undefined) context.route = captured.route.adopted
  const answer = classifyRevalidation(entry, captured.status, input.pairs)
  const ttl = remainingTtl(entry.staleAt, responseTime)
  if (answer.type === 'error' && withinStaleIfError(entry, responseTime)) {
    const status = services.status({
      fwd: 'stale',
      fwdStatus: captured.status,
      ttl,
      detail: Reason.StaleIfError,
    })
    return note(
      trace,
      'stale-if-error',
      captured.status,
      serveStored(entry, request, responseTime, status, 'hit')
    )
  }
  if (answer.type === 'mismatch') {
    const status = services.status({ fwd, fwdStatus: 304, ttl, detail: Reason.ValidatorMismatch })
    return note(
      trace,
      'mismatch',
      captured.status,
      serveStored(entry, request, responseTime, status, 'response')
    )
  }
  const full = fullResponse(entry, input, answer)
  const admission = services.admit(context, full)
  if (admission.stored) {
    if (stored !== undefined) stored.entry = admission.entry
    // The answer is buffered anyway: it goes once the store took the entry, so the client's next
    // request is a hit and `stored` is said only when true (unknown after the wait: not said).
    const written = await services.write(context, admission, found)
    const fresh = remainingTtl(admission.entry.staleAt, responseTime)
    const status = services.status({
      fwd,
      fwdStatus: captured.status,
      stored: written === undefined ? undefined : written === 'stored',
      ttl: written === 'stored' ? fresh : undefined,
      detail: written === undefined || written === 'stored' ? undefined : notStoredReason(written),
    })
    return note(
      trace,
      'updated',
      captured.status,
      serveStored(admission.entry, request, responseTime, status, 'response')
    )
  }
  // The origin answered and its answer may not be stored: the old entry must not be reused.
  if (answer.type !== 'error') services.track(services.remove(found.entryHash))
  const status = services.status({ fwd, fwdStatus: captured.status, detail: admission.reason })
  const reply = originReply(request, full, status, services.surrogateKeyHeader, responseTime)
  const marked = services.marksPrivate(context, full.pairs)
    ? { ...reply, headers: [...reply.headers, PRIVATE_LINE] }
    : reply
  return note(trace, answer.type === 'error' ? 'unchanged' : 'removed', captured.status, marked)
}

/**
 * Background refresh for stale-while-revalidate (RFC 5861 §3), through the adapter's `refresh`:
 * the same rules as a foreground revalidation, without a client. An error, or a 304 for another
 * validator, leaves the entry as it is; an answer that may not be stored removes it. `context` is
 * the request the refresh runs as (see refreshContext: no credentials the key does not hold).
 *
 * @example
 * ```ts
 * services.track(refreshInBackground(services, refreshContext(context, entry, keyed), found, refresh))
 * ```
 */
export async function refreshInBackground(
  services: RevalidationServices,
  context: RequestContext,
  found: Lookup,
  refresh: RunHandler,
  trace?: RevalidateTraceContext
): Promise<void> {
  const entry = found.entry as StoredResponse
  // Start on a later turn, so the client's stale response goes out before the app runs again.
  await new Promise((resolve) => setImmediate(resolve))
  const requestTime = services.clock()
  const captured = await refresh(revalidationRequest(context.request, entry, context.handlerUrl))
  // Entries of this key are not the route's: this one is a leftover, let it go.
  if (captured.route === 'superseded')
    return note(trace, 'superseded', captured.status, services.remove(found.entryHash))
  const route = captured.route === undefined ? context.route : captured.route.adopted
  const input = captureInput(captured, requestTime, services.clock(), found.index)
  const answer = classifyRevalidation(entry, captured.status, input.pairs)
  if (answer.type === 'error' || answer.type === 'mismatch')
    return note(
      trace,
      answer.type === 'error' ? 'unchanged' : 'mismatch',
      captured.status,
      undefined
    )
  // The refresh is a GET even when a HEAD triggered it.
  const admission = services.admit(
    { ...context, route, method: 'GET' },
    fullResponse(entry, input, answer)
  )
  note(trace, admission.stored ? 'updated' : 'removed', captured.status, undefined)
  if (admission.stored) await services.write(context, admission, found)
  else await services.remove(found.entryHash)
}

/** Records how a traced revalidation ended; returns `value`, so a return statement stays one line. */
function note<T>(
  trace: RevalidateTraceContext | undefined,
  outcome: NonNullable<RevalidateTraceContext['outcome']>,
  status: number | undefined,
  value: T
): T {
  if (trace !== undefined) {
    trace.outcome = outcome
    if (status !== undefined) trace.status = status
  }
  return value
}

/** RFC 9111 §4.3.4: a 304 turns the stored response, headers updated, into the origin's full answer. */
function fullResponse(
  entry: StoredResponse,
  input: AdmitInput,
  answer: RevalidationAnswer
): AdmitInput {
  if (answer.type !== 'not-modified') return input
  return { ...input, status: entry.status, pairs: answer.headers, body: entry.body, complete: true }
}
