import type { Cache, CacheEvents, CacheStats } from '@cachewire/core'
import type { RequestContext } from '../request/prepare-request.js'
import type { Admission } from '../flows/admit.js'
import { Reason } from '../semantics/reasons.js'
import { notStoredReason, type WriteOutcome } from '../entry/entry-store.js'
import type { HttpRequest, Outcome, RoutePolicy, StoredResponse } from '../types.js'
import { createDebugLog } from './debug-log.js'
import { publish, type LookupResult, type StoreMessage } from './diagnostics.js'
import { FaultHistory, type Fault } from './fault-history.js'
import { RouteCounts, addCount, type RouteStats } from './route-counts.js'
import { routeLabel, traceBase, traceEntryWrite } from './tracing.js'
import { TopPaths, type PathStats } from './top-paths.js'

/** Rows kept in the top-paths table; bounded so a URL scan cannot grow memory. */
const TOP_PATHS_CAPACITY = 256
/** Recent bypass / not-stored reasons kept for the inspector. */
const RECENT_REASONS_KEPT = 50
/** Longest path recorded; longer ones are cut (they are labels, not keys). */
const PATH_LENGTH_KEPT = 200

/** What the engine counted since it was built. All counters only go up. */
export interface HttpCacheStats {
  /** Requests answered, by how. `bypass` counts requests that went around the cache. */
  lookups: Record<LookupResult | 'bypass', number>
  /** (hit + stale) / (hit + stale + miss + revalidated); 0 before any lookup. */
  hitRate: number
  /** Bypasses by `Reason` word. */
  bypassReasons: Record<string, number>
  /** Responses not stored, by `Reason` word. */
  notStoredReasons: Record<string, number>
  stores: number
  storedBytes: number
  invalidations: number
  /** Entries removed by invalidations. */
  invalidated: number
  /** Purges through the purge API, by kind (`url`, `tags`, `namespace`), dry runs excluded. */
  purges: Record<string, number>
  topPaths: { byHits: PathStats[]; byBytes: PathStats[] }
  recentReasons: Array<{ at: number; kind: 'bypass' | 'not-stored'; reason: string; path: string }>
  /** Lookups per route policy `name` (`default`: no route; `unnamed`: a route without a name), busiest first. */
  routes: RouteStats[]
  /** Breaker transitions and invalidations that could not be applied at once, most recent first. */
  faults: Fault[]
  /** The core cache's own counters: entries, bytes, evictions, breaker state. */
  cache: CacheStats
}

/** What `onStore` listeners receive (for a latency histogram). */
export type StoreListener = (message: StoreMessage) => void

/**
 * The engine's counters, diagnostics_channel events and debug log (`DEBUG=cachewire:*` or `NODE_DEBUG=cachewire`).
 * One per engine; the engine calls it at the few points where an outcome is decided.
 *
 * @example
 * ```ts
 * const engine = createHttpCache()
 * engine.observer.stats().lookups.hit
 * ```
 */
export class EngineObserver {
  readonly #cache: Cache
  readonly #clock: () => number
  readonly #log = createDebugLog()
  readonly #lookups: Record<LookupResult | 'bypass', number> = {
    hit: 0,
    stale: 0,
    miss: 0,
    revalidated: 0,
    bypass: 0,
  }
  readonly #bypassReasons = new Map<string, number>()
  readonly #notStoredReasons = new Map<string, number>()
  readonly #purges = new Map<string, number>()
  readonly #top = new TopPaths(TOP_PATHS_CAPACITY)
  readonly #recent: HttpCacheStats['recentReasons'] = []
  readonly #storeListeners = new Set<StoreListener>()
  readonly #routes = new RouteCounts()
  readonly #faults: FaultHistory
  #stores = 0
  #storedBytes = 0
  #invalidations = 0
  #invalidated = 0
  readonly #onInvalidate: (event: CacheEvents['invalidate'][0]) => void

  constructor(cache: Cache, clock: () => number) {
    this.#cache = cache
    this.#clock = clock
    this.#onInvalidate = (event) => {
      this.#invalidations++
      this.#invalidated += event.removed
      this.#log('invalidate', '%j', event)
      publish.invalidate(() => ({ ...event }))
    }
    cache.on('invalidate', this.#onInvalidate)
    this.#faults = new FaultHistory(cache, clock)
  }

  /** Stops listening to the cache (the engine is closing). */
  close(): void {
    this.#cache.off('invalidate', this.#onInvalidate)
    this.#faults.close()
  }

  /**
   * Takes back a request counted as a miss or a bypass whose pass a route of the engine took
   * over: the route's own pass counts it once.
   */
  retract(kind: 'miss' | 'bypass', reason?: string, route?: RoutePolicy): void {
    if (this.#lookups[kind] > 0) addCount(this.#lookups, kind, -1)
    this.#routes.take(routeLabel(route), kind)
    if (reason === undefined) return
    const count = (this.#bypassReasons.get(reason) ?? 0) - 1
    if (count > 0) this.#bypassReasons.set(reason, count)
    else this.#bypassReasons.delete(reason)
  }

  /**
   * Counts a request `handle` answered through the store; returns `outcome` unchanged. `judgedAt`
   * is the time the answer was decided at, when it was decided in the lookup's tick (the lookup's
   * `readAt`): a hit is counted stale by the time that made it one, without reading the clock again.
   */
  answered<T extends Outcome>(
    context: RequestContext,
    entry: StoredResponse | undefined,
    outcome: T,
    judgedAt?: number
  ): T {
    const result = classify(outcome, entry, judgedAt ?? this.#clock())
    if (result !== undefined) this.#lookup(context, result, entry)
    return outcome
  }

  /** A front-door answer from a fresh stored response. */
  frontDoorHit(context: RequestContext, entry: StoredResponse): void {
    this.#lookup(context, 'hit', entry)
  }

  /** A route met downstream lent its policy to a live miss: the miss is its route's. */
  adopted(from: RoutePolicy | undefined, to: RoutePolicy): void {
    const before = routeLabel(from)
    const after = routeLabel(to)
    if (before === after) return
    this.#routes.take(before, 'miss')
    this.#routes.add(after, 'miss')
  }

  bypassed(request: HttpRequest, reason: Reason): void {
    this.#lookups.bypass++
    this.#routes.add(routeLabel(request.route), 'bypass')
    increment(this.#bypassReasons, reason)
    const path = pathOf(request.url)
    this.#remember('bypass', reason, path)
    this.#log('bypass', '%s %s: %s', request.method, path, reason)
    publish.bypass(() => ({ reason, method: request.method, path }))
  }

  /** A captured response was judged; records why it was not stored. */
  admitted(context: RequestContext, admission: Admission | undefined): void {
    if (admission === undefined || admission.stored) return
    increment(this.#notStoredReasons, admission.reason)
    this.#remember('not-stored', admission.reason, context.path)
    this.#log('store', 'not stored %s %s: %s', context.method, context.path, admission.reason)
    publish.store(() => ({
      stored: false,
      reason: admission.reason,
      path: context.path,
      bytes: 0,
      durationMs: 0,
    }))
  }

  /** Times a store write and counts it when the store took it; a write it refused is a not-stored reason. */
  async stored(
    context: RequestContext,
    admission: Admission & { stored: true },
    write: () => Promise<WriteOutcome>
  ): Promise<WriteOutcome> {
    const started = performance.now()
    const { entry } = admission
    const outcome = await traceEntryWrite(
      // Object.assign, not a spread: V8 (Node 20) adds each field to a spread's copy through its
      // runtime, about a microsecond apiece.
      () =>
        Object.assign(traceBase(context), {
          status: entry.status,
          bytes: entry.body.byteLength,
          freshMs: entry.staleAt - entry.storedAt,
          tags: entry.tags.length,
        }),
      write
    )
    if (outcome !== 'stored') {
      this.admitted(context, {
        stored: false,
        reason: notStoredReason(outcome),
      })
      return outcome
    }
    const durationMs = performance.now() - started
    const bytes = admission.entry.body.byteLength
    this.#stores++
    this.#storedBytes += bytes
    this.#top.stored(pathLabel(context.path), bytes)
    this.#log(
      'store',
      'stored %s %s: %d bytes in %dms',
      context.method,
      context.path,
      bytes,
      Math.round(durationMs)
    )
    const message: StoreMessage = {
      stored: true,
      reason: undefined,
      path: context.path,
      bytes,
      durationMs,
    }
    for (const listener of this.#storeListeners) listener(message)
    publish.store(() => message)
    return outcome
  }

  /** A purge through the purge API (counted; dry runs are not). */
  purged(kind: string, detail: Record<string, unknown>): void {
    increment(this.#purges, kind)
    this.#log('purge', '%s %j', kind, detail)
  }

  /** Listens for store writes (bytes, duration); returns a function that stops listening. */
  onStore(listener: StoreListener): () => void {
    this.#storeListeners.add(listener)
    return () => this.#storeListeners.delete(listener)
  }

  stats(topLimit = 10): HttpCacheStats {
    const { hit, stale, miss, revalidated } = this.#lookups
    const reads = hit + stale + miss + revalidated
    return {
      lookups: { ...this.#lookups },
      hitRate: reads === 0 ? 0 : (hit + stale) / reads,
      bypassReasons: Object.fromEntries(this.#bypassReasons),
      notStoredReasons: Object.fromEntries(this.#notStoredReasons),
      stores: this.#stores,
      storedBytes: this.#storedBytes,
      invalidations: this.#invalidations,
      invalidated: this.#invalidated,
      purges: Object.fromEntries(this.#purges),
      topPaths: { byHits: this.#top.byHits(topLimit), byBytes: this.#top.byBytes(topLimit) },
      recentReasons: [...this.#recent].reverse(),
      routes: this.#routes.stats(),
      faults: this.#faults.recent(),
      cache: this.#cache.stats(),
    }
  }

  #lookup(context: RequestContext, result: LookupResult, entry: StoredResponse | undefined): void {
    const { method, path } = context
    addCount(this.#lookups, result)
    const served = (result === 'hit' || result === 'stale') && entry !== undefined
    // A route's entry answered before the route was met (app-wide middleware, front door) is still the route's.
    this.#routes.add(
      served && context.route === undefined && entry.route !== undefined
        ? entry.route
        : routeLabel(context.route),
      result
    )
    if (served) this.#top.hit(pathLabel(path), entry.body.byteLength)
    publish.lookup(() => ({ result, method, path }))
  }

  #remember(kind: 'bypass' | 'not-stored', reason: string, path: string): void {
    this.#recent.push({ at: this.#clock(), kind, reason, path: pathLabel(path) })
    if (this.#recent.length > RECENT_REASONS_KEPT) this.#recent.shift()
  }
}

function classify(
  outcome: Outcome,
  entry: StoredResponse | undefined,
  now: number
): LookupResult | undefined {
  switch (outcome.kind) {
    case 'hit':
    case 'not-modified':
      return entry !== undefined && entry.staleAt <= now ? 'stale' : 'hit'
    case 'response':
      return 'revalidated'
    case 'miss':
      return 'miss'
    case 'bypass':
      return undefined // counted by `bypassed`, with its reason
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

function pathLabel(path: string): string {
  return path.length > PATH_LENGTH_KEPT ? path.slice(0, PATH_LENGTH_KEPT) : path
}
