import diagnosticsChannel from 'node:diagnostics_channel'
import type { InvalidationResult, Store } from './types.js'

/**
 * `node:diagnostics_channel` tracing channels the core `Cache` publishes on: each has the five
 * events of a `TracingChannel` (`start`, `end`, `asyncStart`, `asyncEnd`, `error`), so an APM can
 * turn a call into a span with its timing (`@cachewire/http/otel` does, for OpenTelemetry).
 * Nothing is built or published while nobody subscribes. Node adds `result` (the resolved value)
 * or `error` to the context object; the fields below are cachewire's. Channels may be added in a
 * minor release; a context field keeps its meaning.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel'
 * import { CoreTracingChannel, type GetTraceContext } from '@cachewire/core'
 *
 * diagnosticsChannel.tracingChannel<object, GetTraceContext>(CoreTracingChannel.Get).subscribe({
 *   start() {}, end() {}, asyncStart() {}, error() {},
 *   asyncEnd: (context) => console.log(context.key, context.hit ? 'hit' : 'miss'),
 * })
 * ```
 */
export const CoreTracingChannel = {
  /** `cache.get(key)`: a `GetTraceContext`. */
  Get: 'cachewire:core.get',
  /** `cache.set(key, value)` (and `add`, `replace`): a `SetTraceContext`. */
  Set: 'cachewire:core.set',
  /** `cache.wrap(key, loader)` (and `getOrSet`): a `WrapTraceContext`. */
  Wrap: 'cachewire:core.wrap',
  /** `invalidateTags`, `deletePattern`, `delete`, `clear`, a namespace's `invalidate`: an `InvalidateTraceContext`. */
  Invalidate: 'cachewire:core.invalidate',
  /** Every call the cache makes to its store (reads, writes, locks, invalidations): a `StoreTraceContext`. */
  Store: 'cachewire:core.store',
} as const
export type CoreTracingChannel = (typeof CoreTracingChannel)[keyof typeof CoreTracingChannel]

/** What every core trace carries. */
export interface CoreTraceContext {
  /** The store the cache calls (its `name`: `'memory'`, `'redis'`, `'tiered'`…; the object itself lets a subscriber tell caches apart). */
  store: Store
  /** The namespace view the call went through, or `undefined` for the root cache. */
  namespace: string | undefined
}

export interface GetTraceContext extends CoreTraceContext {
  /** The key as the caller wrote it (before namespacing). May be personal data: export it with care. */
  key: string
  /** Set when the call ends: whether a value was found. A store fault is a miss. */
  hit?: boolean
}

export interface SetTraceContext extends CoreTraceContext {
  key: string
  /** `set`, or a conditional write: `add` (only if absent), `replace` (only if present). */
  mode: 'set' | 'add' | 'replace'
  ttlMs: number
  tags: readonly string[] | undefined
  /** Encoded size of the value. */
  bytes: number
  /** Set when the call ends: false when the store refused or could not be reached. */
  stored?: boolean
}

export interface WrapTraceContext extends CoreTraceContext {
  key: string
  /**
   * Set when the call ends: `hit` (from the cache), `miss` (not in the cache: this call loaded it,
   * or waited for another process holding the fill lock), `stale` (past its TTL, within the
   * grace period: refreshed, or served stale), `joined` (another caller in this process was
   * already at work on the key; its result was shared).
   */
  outcome?: 'hit' | 'stale' | 'miss' | 'joined'
}

export interface InvalidateTraceContext extends CoreTraceContext {
  kind: 'tags' | 'pattern' | 'namespace' | 'clear' | 'delete'
  tags?: readonly string[] | undefined
  pattern?: string | undefined
  key?: string | undefined
  /** Set when the call ends: entries removed, as the store counted them (0 when it cannot count). */
  removed?: number
  /** Set when the call ends: `applied`, `queued` (the store could not be reached; retried) or `failed`. */
  status?: 'applied' | 'queued' | 'failed'
}

export interface StoreTraceContext {
  /** The store called; `store.name` says which kind. */
  store: Store
  /** The store method: `get`, `set`, `delete`, `has`, `invalidateTags`, `deletePattern`, `increment`, `clear`, `countTagged`, `acquireLock`, `releaseLock`… */
  operation: string
}

/** Every cachewire tracing channel is one of these; the context type is per channel. */
type Channel<C extends object> = diagnosticsChannel.TracingChannel<unknown, C>

const channels = {
  get: diagnosticsChannel.tracingChannel<unknown, GetTraceContext>(CoreTracingChannel.Get),
  set: diagnosticsChannel.tracingChannel<unknown, SetTraceContext>(CoreTracingChannel.Set),
  wrap: diagnosticsChannel.tracingChannel<unknown, WrapTraceContext>(CoreTracingChannel.Wrap),
  invalidate: diagnosticsChannel.tracingChannel<unknown, InvalidateTraceContext>(
    CoreTracingChannel.Invalidate
  ),
  store: diagnosticsChannel.tracingChannel<unknown, StoreTraceContext>(CoreTracingChannel.Store),
}

/**
 * Whether anyone listens to any of a channel's events (bound stores count). Read per event, not
 * through `TracingChannel.hasSubscribers`, which Node 20 has only from 20.13.
 */
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
 * Whether a `cache.get` would publish anything (on its own channel or as a store call): when not,
 * the cache may answer a synchronous store's hit without the promise chain.
 */
export function getTraced(): boolean {
  return listened(channels.get) || listened(channels.store)
}

/** Runs `run` under `channel` when someone listens: `context()` is built only then. */
function traced<C extends object, R>(
  channel: Channel<C>,
  context: () => C,
  run: (context: C | undefined) => Promise<R>,
  finish?: (context: C, result: R) => void
): Promise<R> {
  if (!listened(channel)) return run(undefined)
  const built = context()
  return channel.tracePromise(async () => {
    const result = await run(built)
    finish?.(built, result)
    return result
  }, built)
}

/** `cache.get` under `cachewire:core.get`. */
export function traceGet<T>(
  store: Store,
  namespace: string | undefined,
  key: string,
  run: () => Promise<T | undefined>
): Promise<T | undefined> {
  return traced(
    channels.get,
    (): GetTraceContext => ({ store, namespace, key }),
    run,
    (context, value) => {
      context.hit = value !== undefined
    }
  )
}

/** `cache.set` under `cachewire:core.set`. */
export function traceSet(
  store: Store,
  namespace: string | undefined,
  key: string,
  details: Pick<SetTraceContext, 'mode' | 'ttlMs' | 'tags' | 'bytes'>,
  run: () => Promise<boolean>
): Promise<boolean> {
  return traced(
    channels.set,
    (): SetTraceContext => ({ store, namespace, key, ...details }),
    run,
    (context, stored) => {
      context.stored = stored
    }
  )
}

/** `cache.wrap` under `cachewire:core.wrap`; `run` records `outcome` on the context it is given. */
export function traceWrap<T>(
  store: Store,
  namespace: string | undefined,
  key: string,
  run: (context: WrapTraceContext | undefined) => Promise<T>
): Promise<T> {
  return traced(
    channels.wrap,
    (): WrapTraceContext => ({ store, namespace, key }),
    run,
    (context) => {
      context.outcome ??= 'joined'
    }
  )
}

/** An invalidation under `cachewire:core.invalidate`. */
export function traceInvalidate(
  store: Store,
  namespace: string | undefined,
  target: Pick<InvalidateTraceContext, 'kind' | 'tags' | 'pattern' | 'key'>,
  run: () => Promise<InvalidationResult>
): Promise<InvalidationResult> {
  return traced(
    channels.invalidate,
    (): InvalidateTraceContext => ({ store, namespace, ...target }),
    run,
    (context, result) => {
      context.removed = result.removed
      context.status = result.status
    }
  )
}

/** One store call under `cachewire:core.store`. */
export function traceStoreCall<T>(
  store: Store | undefined,
  operation: string,
  run: () => Promise<T>
): Promise<T> {
  if (store === undefined) return run()
  return traced(channels.store, (): StoreTraceContext => ({ store, operation }), run)
}
