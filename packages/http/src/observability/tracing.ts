import diagnosticsChannel from 'node:diagnostics_channel'
import type { RoutePolicy } from '../types.js'

/**
 * `node:diagnostics_channel` tracing channels the engine publishes on, each with the five events
 * of a `TracingChannel` (`start`, `end`, `asyncStart`, `asyncEnd`, `error`), so an APM can make
 * spans of them (`@cachewire/http/otel` does, for OpenTelemetry). Nothing is built or published
 * while nobody subscribes. A call the store answers without I/O (a memory hit) ends in `end`
 * with `result` set and no async events, as `traceSync` would; otherwise `asyncEnd` closes it,
 * as `tracePromise` would. The store work under a lookup or a write is traced by the core
 * channels (`CoreTracingChannel`), nested in the same async context.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel'
 * import { HttpTracingChannel } from '@cachewire/http/operations'
 *
 * diagnosticsChannel.tracingChannel(HttpTracingChannel.Lookup).subscribe({
 *   start() {}, asyncStart() {}, asyncEnd() {}, error() {},
 *   end: (context) => console.log(context),
 * })
 * ```
 */
export const HttpTracingChannel = {
  /** Reading the stored response a request selects (or deciding it bypasses): a `LookupTraceContext`. */
  Lookup: 'cachewire:http.lookup',
  /** Writing a response to the store: an `EntryWriteTraceContext`. */
  Store: 'cachewire:http.store',
  /** Revalidating a stored response with the origin, in the request or in the background: a `RevalidateTraceContext`. */
  Revalidate: 'cachewire:http.revalidate',
} as const
export type HttpTracingChannel = (typeof HttpTracingChannel)[keyof typeof HttpTracingChannel]

/** What every engine trace carries: never the query, the key or a header value. */
export interface HttpTraceContext {
  method: string
  /** The URL path. */
  path: string
  /** The route policy's `name`; `unnamed` for a route without one, `default` when no route met the request. */
  route: string
}

export interface LookupTraceContext extends HttpTraceContext {
  /**
   * Set when the lookup ends: `hit` (a fresh stored response), `stale` (a stored response past
   * its freshness: served stale or revalidated), `miss` (none), `bypass` (the request does not
   * use the cache; see `reason`).
   */
  outcome?: 'hit' | 'stale' | 'miss' | 'bypass'
  /** Why, for a bypass: a `Reason` word (the Cache-Status detail). */
  reason?: string | undefined
}

export interface EntryWriteTraceContext extends HttpTraceContext {
  /** Status of the stored response. */
  status: number
  /** Body bytes written. */
  bytes: number
  /** Freshness lifetime of the entry, in ms. */
  freshMs: number
  /** How many tags it is filed under (the tags themselves may be personal). */
  tags: number
}

export interface RevalidateTraceContext extends HttpTraceContext {
  /** `foreground`: the client waits for it; `background`: stale-while-revalidate's refresh. */
  mode: 'foreground' | 'background'
  /** Set when it ends: the origin's status. */
  status?: number
  /**
   * Set when it ends: `updated` (a 304, or a new response, stored), `removed` (the answer may not
   * be stored: the old entry is dropped), `stale-if-error` (the origin failed; the stale entry
   * answered), `unchanged` (a background refresh that failed leaves the entry), `mismatch`
   * (a 304 for another validator), `superseded` (a route with its own key took the request).
   */
  outcome?: 'updated' | 'removed' | 'stale-if-error' | 'unchanged' | 'mismatch' | 'superseded'
}

type Channel<C extends object> = diagnosticsChannel.TracingChannel<unknown, C>

const channels = {
  lookup: diagnosticsChannel.tracingChannel<unknown, LookupTraceContext>(HttpTracingChannel.Lookup),
  store: diagnosticsChannel.tracingChannel<unknown, EntryWriteTraceContext>(
    HttpTracingChannel.Store
  ),
  revalidate: diagnosticsChannel.tracingChannel<unknown, RevalidateTraceContext>(
    HttpTracingChannel.Revalidate
  ),
}

/** The trace fields of a request the engine prepared. */
export function traceBase(context: {
  method: string
  path: string
  route: RoutePolicy | undefined
}): HttpTraceContext {
  return { method: context.method, path: context.path, route: routeLabel(context.route) }
}

/** The URL path of a request target (no query). */
export function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/** The label a route policy goes by in metrics, traces and the inspector. */
export function routeLabel(route: RoutePolicy | undefined): string {
  return route === undefined ? 'default' : (route.name ?? 'unnamed')
}

/** Whether anyone listens to any of the channel's events (per event: `TracingChannel.hasSubscribers` is Node ≥ 20.13). */
function listened(channel: Channel<object>): boolean {
  return (
    channel.start.hasSubscribers ||
    channel.end.hasSubscribers ||
    channel.asyncStart.hasSubscribers ||
    channel.asyncEnd.hasSubscribers ||
    channel.error.hasSubscribers
  )
}

/**
 * `run` under `channel`, as `traceSync` when it answers a value and as `tracePromise` when it
 * answers a promise, so a synchronous memory hit stays synchronous.
 */
function traceMaybeAsync<C extends object, R>(
  channel: Channel<C>,
  context: C,
  run: () => R | Promise<R>,
  finish: (context: C, result: R) => void
): R | Promise<R> {
  const traced = context as C & { result?: R; error?: unknown }
  return channel.start.runStores(traced, () => {
    try {
      const result = run()
      if (!(result instanceof Promise)) {
        finish(context, result)
        traced.result = result
        return result
      }
      return result.then(
        (value) => {
          finish(context, value)
          traced.result = value
          channel.asyncStart.publish(traced)
          channel.asyncEnd.publish(traced)
          return value
        },
        (error: unknown) => {
          traced.error = error
          channel.error.publish(traced)
          channel.asyncStart.publish(traced)
          channel.asyncEnd.publish(traced)
          throw error
        }
      )
    } catch (error) {
      traced.error = error
      channel.error.publish(traced)
      throw error
    } finally {
      channel.end.publish(traced)
    }
  })
}

/** Whether anyone listens to the lookup channel: while nobody does, a lookup builds no closures for it. */
export function lookupsTraced(): boolean {
  return listened(channels.lookup)
}

/** An engine lookup under `cachewire:http.lookup`; `classify` names what it found. */
export function traceLookup<R>(
  base: () => HttpTraceContext,
  run: () => R | Promise<R>,
  classify: (result: R) => Pick<LookupTraceContext, 'outcome' | 'reason'>
): R | Promise<R> {
  if (!listened(channels.lookup)) return run()
  return traceMaybeAsync<LookupTraceContext, R>(channels.lookup, base(), run, (context, result) =>
    Object.assign(context, classify(result))
  )
}

/** A store write under `cachewire:http.store`. */
export function traceEntryWrite<R>(
  context: () => EntryWriteTraceContext,
  run: () => Promise<R>
): Promise<R> {
  if (!listened(channels.store)) return run()
  return channels.store.tracePromise(run, context())
}

/** A revalidation under `cachewire:http.revalidate`; `run` records `status` and `outcome` on the context it is given. */
export function traceRevalidation<R>(
  base: () => HttpTraceContext,
  mode: RevalidateTraceContext['mode'],
  run: (context: RevalidateTraceContext | undefined) => Promise<R>
): Promise<R> {
  if (!listened(channels.revalidate)) return run(undefined)
  const context: RevalidateTraceContext = Object.assign(base(), { mode })
  return channels.revalidate.tracePromise(() => run(context), context)
}
