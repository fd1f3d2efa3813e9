import { DecodeError, type Cache, type InvalidationResult } from '@cachewire/core'
import { cdnHeaders } from '../cdn/cdn-headers.js'
import type { PurgeEvent } from '../cdn/purge-hook.js'
import { EntryStore, type Lookup, type WriteOutcome } from '../entry/entry-store.js'
import {
  admitResponse,
  predictStorage,
  type Admission,
  type AdmitInput,
  type NotStored,
} from '../flows/admit.js'
import { CardinalityGuard } from '../flows/cardinality-guard.js'
import { Coalescer } from '../flows/coalesce.js'
import { marksPrivate } from '../flows/deception-armor.js'
import { ForcedRevalidationGate } from '../flows/forced-revalidation-gate.js'
import { refreshContext } from '../flows/refresh-request.js'
import { refreshInBackground, type RevalidationServices } from '../flows/revalidation-flow.js'
import { serveStored } from '../flows/serve-stored.js'
import { EngineObserver } from '../observability/engine-observer.js'
import { traceBase, traceRevalidation } from '../observability/tracing.js'
import type { ResolvedHttpCacheOptions } from '../options/resolve-options.js'
import { KeyHasher } from '../request/cache-key.js'
import type { RequestContext } from '../request/prepare-request.js'
import { formatCacheStatus, type CacheStatusParams } from '../semantics/cache-status.js'
import { Reason } from '../semantics/reasons.js'
import type {
  HeaderPairs,
  ReplyOutcome,
  ResolvedCdnOptions,
  RoutePolicy,
  RunHandler,
  StoredResponse,
} from '../types.js'
import { PendingWork } from './pending-work.js'

/**
 * Longest a response is held for its store write (read-your-writes, and `stored` in Cache-Status
 * only when true). Redis calls have their own, shorter deadlines; this bounds a store without them.
 */
export const WRITE_WAIT_MS = 2000

/** Most plain-hit Cache-Status values remembered (one per whole second of remaining ttl). */
const HIT_STATUSES_KEPT = 4096

/** Not-stored reasons that are size or count bounds, counted by `counters()`. */
const BOUND_REASONS: ReadonlySet<string> = new Set([
  Reason.VariantCap,
  Reason.TooLarge,
  Reason.HeadersTooLarge,
])

/**
 * The engine's state and the small services every flow uses: one per engine, owned by
 * `HttpCache`, never shared. Flows get it as their first argument; nothing here is public API.
 */
export class EngineCore implements RevalidationServices {
  readonly options: ResolvedHttpCacheOptions
  readonly cache: Cache
  readonly observer: EngineObserver
  readonly entries: EntryStore
  readonly coalescer: Coalescer<StoredResponse>
  readonly guard: CardinalityGuard
  /** At most one client-forced revalidation per key per second. */
  readonly forced: ForcedRevalidationGate = new ForcedRevalidationGate()
  readonly hasher: KeyHasher = new KeyHasher()
  readonly clock: () => number
  readonly surrogateKeyHeader: string | undefined
  /** The store is in this process (memory): an admitted entry's write cannot fail for want of a store. */
  readonly writesInProcess: boolean
  readonly #refreshing = new Set<string>()
  readonly #pending = new PendingWork()
  /** Bound and isolation trips, by reason (see `counters`). */
  readonly #trips = new Map<string, number>()
  /**
   * Plain-hit Cache-Status values by whole seconds of ttl. Entries stored at different times have
   * different ttls, so with many keys one remembered value would be rebuilt on nearly every hit;
   * a ttl of a few minutes has a few hundred values. Bounded: cleared when full.
   */
  readonly #hitStatuses = new Map<number, string>()
  /** The last of them: a single hot key asks for the same one all second. */
  #lastHitTtl = Number.NaN
  #lastHitStatus = ''
  #warnedNoFreshness = false
  readonly #onCacheError: (error: Error) => void

  constructor(options: ResolvedHttpCacheOptions) {
    this.options = options
    this.cache = options.cache
    this.clock = options.clock
    this.surrogateKeyHeader = options.surrogateKeyHeader
    this.writesInProcess = this.cache.store.syncReads === 'complete'
    this.observer = new EngineObserver(this.cache, this.clock)
    // Every fault the cache reports (store errors, timeouts, dropped writes, invalidations that
    // failed) reaches onError: the core already rate-limits them, one per kind per second. Bytes
    // the core itself cannot decode never reach the entry store: count them here too (the core
    // has already deleted them and answered a miss).
    this.#onCacheError = (error) => {
      if (error instanceof DecodeError) this.trip('corrupt-entry')
      this.#tell(error)
    }
    this.cache.on('error', this.#onCacheError)
    this.entries = new EntryStore(
      this.cache,
      this.clock,
      (error) => this.report(error),
      this.hasher
    )
    // Settled runs are kept for late joiners only once a lookup has gone asynchronous
    // (`HttpCache.lookup`): before that no request can look up while a run settles.
    this.coalescer = new Coalescer(options.coalesce.timeoutMs, this.clock, false)
    this.guard = new CardinalityGuard(this.clock)
  }

  /**
   * Storability and entry building for a captured response; never throws. `known`: the head
   * already showed it is not stored (its body was not held), so that verdict stands.
   */
  admit(context: RequestContext, input: AdmitInput, known?: NotStored): Admission {
    let admission: Admission
    try {
      admission = known ?? admitResponse(context, input, this.options)
    } catch (error) {
      // A throwing tags function: an entry without its tags could never be purged by them.
      this.report(error)
      admission = { stored: false, reason: Reason.Error }
    }
    if (known === undefined) this.#notStored(admission)
    this.observer.admitted(context, admission)
    if (!admission.stored && BOUND_REASONS.has(admission.reason)) this.trip(admission.reason)
    return admission
  }

  /** The header-time guess at storability (for Cache-Status); never throws. */
  predict(
    context: RequestContext,
    status: number,
    pairs: HeaderPairs
  ): ReturnType<typeof predictStorage> {
    try {
      const guess = predictStorage(context, status, pairs, this.options, this.clock())
      this.#notStored(guess)
      return guess
    } catch (error) {
      this.report(error)
      return { stored: false, reason: Reason.Error }
    }
  }

  /**
   * Stores an admitted entry and resolves what the store did, or `undefined` when it has not
   * answered within WRITE_WAIT_MS: a caller holding a response for the outcome (read-your-writes,
   * a truthful `stored`) waits no longer, and the write goes on in the background (`whenIdle`
   * waits for it). Each store call has its own deadline; this bound is for stores without one.
   */
  write(
    context: RequestContext,
    admission: Admission & { stored: true },
    found: Lookup
  ): Promise<WriteOutcome | undefined> {
    const work = this.observer
      .stored(context, admission, () =>
        this.entries.write(context, admission, found.index, this.options.maxVariants)
      )
      .then((outcome) => {
        if (outcome === 'variant-cap') this.trip(Reason.VariantCap)
        return outcome
      })
    this.track(work)
    // One promise and one timer, not a race of two and a `finally`: every stored miss comes here.
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, WRITE_WAIT_MS, undefined)
      timer.unref?.()
      work.then(
        (outcome) => {
          clearTimeout(timer)
          resolve(outcome)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        }
      )
    })
  }

  /**
   * Every invalidation the engine makes goes through here: what was settled for late joiners
   * is forgotten first, so a purged response can never answer a request that began before it.
   */
  invalidateTags(tags: readonly string[]): Promise<InvalidationResult> {
    this.coalescer.forgetSettled()
    return this.cache.invalidateTags(tags)
  }

  remove(hash: string | undefined): Promise<void> {
    return this.entries.delete(hash)
  }

  /** Our Cache-Status member; `detail` only in debug mode (RFC 9211 §2.8), never the key. */
  status(params: CacheStatusParams): string {
    // A plain hit is the hot path: its value changes only with `ttl`, once a second.
    if (
      params.hit === true &&
      params.ttl !== undefined &&
      params.fwd === undefined &&
      params.fwdStatus === undefined &&
      params.stored === undefined &&
      params.collapsed === undefined &&
      params.detail === undefined
    ) {
      const ttl = Math.trunc(params.ttl)
      if (ttl === this.#lastHitTtl) return this.#lastHitStatus
      let value = this.#hitStatuses.get(ttl)
      if (value === undefined) {
        if (this.#hitStatuses.size >= HIT_STATUSES_KEPT) this.#hitStatuses.clear()
        value = formatCacheStatus(this.options.cacheStatusName, { hit: true, ttl })
        this.#hitStatuses.set(ttl, value)
      }
      this.#lastHitTtl = ttl
      this.#lastHitStatus = value
      return value
    }
    if (!this.options.debug && params.detail !== undefined)
      params = { ...params, detail: undefined }
    return formatCacheStatus(this.options.cacheStatusName, params)
  }

  /** A stored response as a reply, with the CDN fields when the policy has them (never for a per-user entry). */
  serve(
    entry: StoredResponse,
    context: RequestContext,
    now: number,
    status: string,
    kind: 'hit' | 'response' = 'hit'
  ): ReplyOutcome {
    const reply = serveStored(entry, context.request, now, status, kind)
    const cdn = context.scope === 'private' ? undefined : this.cdnFor(context.route)
    if (cdn === undefined) return reply
    const fields = ownFieldsWin(cdnHeaders(cdn, entry.tags), reply.headers)
    return fields.length === 0 ? reply : { ...reply, headers: [...reply.headers, ...fields] }
  }

  /** `safety.privateIfCredentialed` for a request on `route`. */
  privateIfCredentialed(route: RoutePolicy | undefined): boolean {
    return route?.privateIfCredentialed ?? this.options.privateIfCredentialed
  }

  /** Deception armor for a response the engine obtained and does not store (see marksPrivate). */
  marksPrivate(context: RequestContext, pairs: HeaderPairs): boolean {
    return marksPrivate({
      enabled: this.privateIfCredentialed(context.route),
      headers: context.request.headers,
      scope: context.scope,
      stored: false,
      pairs,
    })
  }

  cdnFor(route: RoutePolicy | undefined): ResolvedCdnOptions | undefined {
    const own = route?.cdn
    return own === false ? undefined : (own ?? this.options.cdn)
  }

  /** RFC 5861 §3: one background refresh per stored response at a time. */
  refresh(context: RequestContext, found: Lookup, refresh: RunHandler): void {
    const hash = found.entryHash as string
    if (this.#refreshing.has(hash)) return
    this.#refreshing.add(hash)
    const keyed = context.route?.keyedHeaders ?? this.options.keyedHeaders
    const work = traceRevalidation(
      () => traceBase(context),
      'background',
      (trace) =>
        refreshInBackground(
          this,
          refreshContext(context, found.entry as StoredResponse, keyed),
          found,
          refresh,
          trace
        )
    )
      .catch((error: unknown) => this.report(error))
      .finally(() => this.#refreshing.delete(hash))
    this.track(work)
  }

  /** Tells every purge hook; a failing hook is reported, never thrown. */
  async notifyPurge(event: PurgeEvent): Promise<void> {
    const hooks = this.options.purgeHooks
    if (hooks.length === 0) return
    await Promise.all(
      hooks.map(async (hook, i) => {
        try {
          await hook.purge(event)
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          this.report(
            new Error(`purge hook ${hook.name ?? `#${i}`} failed: ${message}`, { cause: error })
          )
        }
      })
    )
  }

  track(work: Promise<unknown>): void {
    // Tracked work is built not to reject; if it ever did, it is reported, never left unhandled.
    this.#pending.add(work, (error) => this.report(error))
  }

  whenIdle(): Promise<void> {
    return this.#pending.idle()
  }

  trip(reason: string): void {
    this.#trips.set(reason, (this.#trips.get(reason) ?? 0) + 1)
  }

  /** Takes back a trip counted for a pass a route took over. */
  untrip(reason: string): void {
    const count = (this.#trips.get(reason) ?? 0) - 1
    if (count > 0) this.#trips.set(reason, count)
    else this.#trips.delete(reason)
  }

  counters(): Record<string, number> {
    return Object.fromEntries(this.#trips)
  }

  report(error: unknown): void {
    if (error instanceof DecodeError) this.trip('corrupt-entry')
    this.#tell(error)
  }

  #tell(error: unknown): void {
    try {
      this.options.onError(error instanceof Error ? error : new Error(String(error)))
    } catch {
      // An onError that throws must not turn a swallowed cache fault into a failed request.
    }
  }

  /** Stops listening to the cache and frees the waiters' timers. */
  close(): void {
    this.cache.off('error', this.#onCacheError)
    this.observer.close()
    this.coalescer.close()
  }

  /** One warning per engine: responses arrive with no freshness and no `ttl`, and are not stored. */
  #notStored(verdict: { stored: boolean } | NotStored): void {
    if (this.#warnedNoFreshness || verdict.stored || !(verdict as NotStored).silent) return
    this.#warnedNoFreshness = true
    process.emitWarning(
      'cachewire: a response with no freshness (no Cache-Control max-age or s-maxage, no Expires) was not stored, ' +
        "because no ttl is set. Set one (responseCache({ ttl: '1m' }), createHttpCache({ ttl: '1m' })) or send " +
        'Cache-Control from the handler. This warning is shown once per cache.',
      { code: 'CACHEWIRE_NO_FRESHNESS' }
    )
  }
}

/** The CDN fields the response does not set itself: a handler's own Surrogate-Control or CDN-Cache-Control wins. */
export function ownFieldsWin(fields: HeaderPairs, response: HeaderPairs): HeaderPairs {
  return fields.filter(
    ([name]) => name === 'surrogate-key' || !response.some(([own]) => own === name)
  )
}
