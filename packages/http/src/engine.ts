import { DecodeError, InvalidArgumentError, type Cache } from '@cachewire/core'
import { EntryStore, type Lookup } from './entry/entry-store.js'
import { admitResponse, captureInput, collectTags, predictStorage, selectsVariant, type Admission, type AdmitInput } from './flows/admit.js'
import { cdnHeaders, publicTags, type ResolvedCdnOptions } from './cdn/cdn-headers.js'
import type { PurgeEvent } from './cdn/purge-hook.js'
import { CardinalityGuard } from './flows/cardinality-guard.js'
import { Coalescer, COALESCE_TIMEOUT } from './flows/coalesce.js'
import { createForwardOutcome } from './flows/forward.js'
import { invalidationTags, invalidationUrls, type InvalidationBase } from './flows/invalidation.js'
import { hasValidator } from './flows/revalidate.js'
import { HandlerFailure, refreshInBackground, revalidate, type RevalidationServices } from './flows/revalidation-flow.js'
import { gatewayTimeout, serveStored } from './flows/serve-stored.js'
import { decideStored, withinStaleIfError } from './flows/stale.js'
import { resolveHttpCacheOptions, type ResolvedHttpCacheOptions } from './options.js'
import { prepareRequest, type RequestContext } from './request/prepare-request.js'
import { KeyHasher } from './request/cache-key.js'
import { purgeTag } from './request/purge-target.js'
import { stripValidators } from './request/strip-validators.js'
import { formatCacheStatus, remainingTtl, type CacheStatusParams, type Forward } from './semantics/cache-status.js'
import { requestUsability } from './semantics/freshness.js'
import { toHeaderPairs } from './semantics/headers.js'
import { Reason } from './semantics/reasons.js'
import { EngineObserver } from './observability/engine-observer.js'
import type { HeaderPairs, HttpCacheOptions, HttpRequest, Outcome, ReplyOutcome, ResponsePatch, RunHandler, StoredResponse } from './types.js'

/** Not-stored reasons that are size or count bounds, counted by `counters()`. */
const BOUND_REASONS: ReadonlySet<string> = new Set([Reason.VariantCap, Reason.TooLarge, Reason.HeadersTooLarge])

/** `lookupSync`'s answer when only an asynchronous store read can tell. */
export const NEEDS_STORE: unique symbol = Symbol('cachewire.needs-store')

/**
 * The HTTP caching engine: RFC 9111 shared-cache semantics over a core `Cache`. Adapters call
 * `handle` for every request; `types.ts` describes the contract.
 *
 * @example
 * ```ts
 * import { HttpCache } from '@cachewire/http'
 * const engine = new HttpCache({ ttl: '1m' })
 * const outcome = await engine.handle(request, runHandler)
 * ```
 */
export class HttpCache {
  /** The core cache entries live in. */
  readonly cache: Cache
  readonly options: ResolvedHttpCacheOptions
  /** Counters, diagnostics_channel events and the debug log. See `observability/`. */
  readonly observer: EngineObserver
  readonly #entries: EntryStore
  readonly #coalescer: Coalescer<StoredResponse>
  readonly #refreshing = new Set<string>()
  readonly #pending = new Set<Promise<void>>()
  readonly #services: RevalidationServices
  readonly #hasher = new KeyHasher()
  readonly #guard: CardinalityGuard
  /** Bound and isolation trips, by reason (see `counters`). */
  readonly #trips = new Map<string, number>()
  /** The last plain-hit Cache-Status value, by whole seconds of ttl. */
  #hitStatus = { ttl: Number.NaN, value: '' }

  constructor(options: HttpCacheOptions | ResolvedHttpCacheOptions = {}) {
    this.options = resolveHttpCacheOptions(options)
    this.cache = this.options.cache
    this.observer = new EngineObserver(this.cache, this.options.clock)
    // Bytes the core itself cannot decode never reach the entry store: count them here. The core
    // has already deleted them and answered a miss.
    this.cache.on('error', (error) => {
      if (error instanceof DecodeError) this.#trip('corrupt-entry')
    })
    this.#entries = new EntryStore(this.cache, this.options.clock, (error) => this.#report(error), this.#hasher)
    this.#coalescer = new Coalescer(this.options.coalesce.timeoutMs, this.options.clock)
    this.#guard = new CardinalityGuard(this.options.clock)
    this.#services = {
      clock: this.options.clock,
      admit: (context, input) => {
        const admission = this.#admit(context, input)
        this.observer.admitted(context, admission)
        return admission
      },
      write: (context, admission, found) => this.observer.stored(context, admission, () => this.#entries.write(context, admission, found.index)),
      remove: (hash) => this.#entries.delete(hash),
      status: (params) => this.#status(params),
      track: (work) => this.#track(work),
      surrogateKeyHeader: this.options.surrogateKeyHeader,
    }
  }

  /**
   * Decides how to answer a request: from the cache, by having the adapter run the handler live
   * (storing what it answers), or by calling `runHandler` to revalidate. Never rejects for a
   * cache reason; rejects only with what `runHandler` rejected with when nothing may stand in.
   */
  async handle(request: HttpRequest, runHandler: RunHandler, refresh?: RunHandler): Promise<Outcome> {
    let context: RequestContext
    try {
      const prepared = prepareRequest(request, this.options, this.#hasher)
      if ('reason' in prepared) return this.#bypass(request, prepared.reason, prepared.invalidation)
      context = prepared
    } catch (error) {
      // A throwing key function, or a bug: serve the request uncached rather than fail it.
      this.#report(error)
      return this.#bypass(request, Reason.Error, undefined)
    }
    let ran = false
    const guarded: RunHandler = (origin) => {
      ran = true
      return runHandler(origin)
    }
    try {
      const found = this.#entries.lookupSync(context) ?? (await this.#entries.lookup(context))
      if (found.entry !== undefined) return this.observer.answered(context, found.entry, await this.#fromStored(context, found, guarded, refresh))
      return this.observer.answered(context, undefined, await this.#miss(context, found))
    } catch (error) {
      if (error instanceof HandlerFailure) throw error.error
      // Once the handler has run, a bypass would run it twice; before, serve uncached.
      if (ran) throw error
      this.#report(error)
      return this.#bypass(request, Reason.Error, undefined)
    }
  }

  /**
   * For a front door in front of the framework: answers only what a stored response can answer
   * as it stands (a fresh hit, or a 304 from it), and resolves `undefined` for everything else
   * with nothing recorded, so the request can go on to the app, whose middleware calls `handle`.
   * Same keys and rules as `handle`: both go through the same request preparation and lookup.
   *
   * @example
   * ```ts
   * const reply = await engine.lookup(request)
   * if (reply === undefined) app(req, res)
   * ```
   */
  async lookup(request: HttpRequest): Promise<ReplyOutcome | undefined> {
    const now = this.lookupSync(request)
    if (now !== NEEDS_STORE) return now
    try {
      const context = prepareRequest(request, this.options, this.#hasher)
      if ('reason' in context) return undefined
      return this.#replyFromLookup(context, await this.#entries.lookup(context))
    } catch (error) {
      this.#report(error)
      return undefined
    }
  }

  /**
   * `lookup` without I/O: a reply, `undefined` (the app must answer), or `NEEDS_STORE` when only
   * an asynchronous store read can tell (Redis; a tiered store's L1 miss). With a memory store a
   * front-door hit is answered in the same tick the request arrived, with no promise work.
   *
   * @example
   * ```ts
   * const reply = engine.lookupSync(request)
   * if (reply === NEEDS_STORE) engine.lookup(request).then(...)
   * ```
   */
  lookupSync(request: HttpRequest): ReplyOutcome | undefined | typeof NEEDS_STORE {
    try {
      const context = prepareRequest(request, this.options, this.#hasher)
      if ('reason' in context) return undefined
      const found = this.#entries.lookupSync(context)
      if (found === undefined) return NEEDS_STORE
      return this.#replyFromLookup(context, found)
    } catch (error) {
      this.#report(error)
      return undefined
    }
  }

  /** What a front door may answer from a lookup: a usable fresh entry only (RFC 9111 §3.5, §4.2). */
  #replyFromLookup(context: RequestContext, found: Lookup): ReplyOutcome | undefined {
    const entry = found.entry
    if (entry === undefined) return undefined
    if (context.authorization && !entry.sharedWithAuthorization) return undefined
    const now = this.options.clock()
    const decision = decideStored(entry, context.directives, now, { respectRequest: this.options.respectRequestNoCache, canRefresh: false })
    if (decision.action !== 'serve') return undefined
    this.observer.frontDoorHit(context, entry)
    return this.#serve(entry, context.request, now, this.#status({ hit: true, ttl: remainingTtl(entry.staleAt, now) }))
  }

  /**
   * Removes every stored response for a URL: all schemes, variants and key-function parts.
   * `url` is absolute (`https://example.com/a?b=1`), or a path with `host` given.
   *
   * @example
   * ```ts
   * await engine.purgeUrl('/products?id=7', 'shop.example.com')
   * ```
   */
  async purgeUrl(url: string, host?: string): Promise<number> {
    const result = purgeTag(url, host, this.options.query)
    if ('error' in result) {
      if (result.error === 'url') throw new InvalidArgumentError('url', 'an absolute URL or a path', url)
      throw new InvalidArgumentError('host', 'a host name (or an absolute url)', host)
    }
    const removed = await this.cache.invalidateTags([result.tag])
    await this.#notifyPurge({ kind: 'url', tags: [], urls: [absoluteUrl(url, host)] })
    return removed
  }

  /**
   * Removes every stored response filed under any of `tags` (option, route and surrogate-key tags).
   *
   * @example
   * ```ts
   * await engine.invalidateTags(['products'])
   * ```
   */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    const removed = await this.cache.invalidateTags(tags)
    const forCdn = publicTags(tags)
    if (forCdn.length > 0) await this.#notifyPurge({ kind: 'tags', tags: forCdn, urls: [] })
    return removed
  }

  /**
   * How often each safety bound or isolation rule tripped since the engine was built: bypasses
   * (`unkeyed-header`, `request-body`, `private-key`, `cardinality`, `cookie`, `host`, …),
   * responses not stored for a bound (`variant-cap`, `too-large`, `headers-too-large`), and
   * stored values dropped as corrupt or mismatched (`corrupt-entry`).
   *
   * @example
   * ```ts
   * engine.counters().cardinality // requests served uncached by the cardinality guard
   * ```
   */
  counters(): Record<string, number> {
    return Object.fromEntries(this.#trips)
  }

  /** Resolves once background work (refreshes, writes after a revalidation) has settled. */
  async whenIdle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  async #fromStored(context: RequestContext, found: Lookup, runHandler: RunHandler, refresh: RunHandler | undefined): Promise<Outcome> {
    const entry = found.entry as StoredResponse
    const now = this.options.clock()
    // RFC 9111 §3.5: a request with Authorization is answered only from explicitly shareable entries.
    if (context.authorization && !entry.sharedWithAuthorization) return this.#forward(context, found, 'request', false, Reason.Authorization)
    const decision = decideStored(entry, context.directives, now, {
      respectRequest: this.options.respectRequestNoCache,
      canRefresh: refresh !== undefined,
    })
    const ttl = remainingTtl(entry.staleAt, now)
    if (decision.action === 'serve') return this.#serve(entry, context.request, now, this.#status({ hit: true, ttl }))
    if (decision.action === 'serve-stale-and-refresh') {
      this.#refresh(context, found, refresh as RunHandler)
      const status = this.#status({ hit: true, ttl, detail: Reason.StaleWhileRevalidate })
      return this.#serve(entry, context.request, now, status)
    }
    // RFC 9111 §5.2.1.7: only-if-cached never goes forward.
    if (context.directives['only-if-cached'] === true) return gatewayTimeout(this.#status({ detail: Reason.OnlyIfCached }))
    // HEAD has no body to renew the entry with; and without a validator or a stale-if-error
    // window a buffered run adds nothing: run the handler live, as on a miss.
    if (context.method === 'HEAD' || (!hasValidator(entry) && !withinStaleIfError(entry, now))) {
      return this.#forward(context, found, decision.fwd, false, undefined)
    }
    return revalidate(this.#services, context, found, decision.fwd, runHandler)
  }

  async #miss(context: RequestContext, found: Lookup): Promise<Outcome> {
    if (context.directives['only-if-cached'] === true) return gatewayTimeout(this.#status({ detail: Reason.OnlyIfCached }))
    // A flood of new keys (cache busting) is served uncached rather than evicting useful entries.
    if (context.limit !== false && !this.#guard.admit(context.limit, context.group, context.primaryHash)) {
      return this.#bypass(context.request, Reason.Cardinality, undefined)
    }
    // Requests with credentials never share a handler run: their response may be personal.
    if (!this.options.coalesce.enabled || context.authorization) return this.#forward(context, found, found.fwd, false, undefined)
    const waiting = this.#coalescer.join(context.primaryHash)
    // Only a request whose response can be stored may lead: HEAD and no-store ones never share.
    const lead = context.method === 'GET' && !context.noStore
    if (waiting === undefined) return this.#forward(context, found, found.fwd, lead, undefined)
    const shared = await waiting
    const now = this.options.clock()
    if (
      shared !== COALESCE_TIMEOUT &&
      shared !== undefined &&
      selectsVariant(shared, context) &&
      requestUsability(shared, context.directives, now, this.options.respectRequestNoCache) === 'usable'
    ) {
      const ttl = remainingTtl(shared.staleAt, now)
      const status = this.#status({ fwd: found.fwd, fwdStatus: shared.status, collapsed: true, ttl })
      return this.#serve(shared, context.request, now, status)
    }
    // Not stored (perhaps personal), another variant, or too slow: run the handler ourselves.
    return this.#forward(context, found, found.fwd, false, shared === COALESCE_TIMEOUT ? Reason.CoalesceTimeout : undefined)
  }

  /** A live handler run whose response may be stored; `lead` makes concurrent misses wait for it. */
  #forward(context: RequestContext, found: Lookup, fwd: Forward, lead: boolean, detail: Reason | undefined): Outcome {
    const { options } = this
    const leader = lead ? this.#coalescer.lead(context.primaryHash) : undefined
    const requestTime = options.clock()
    const storable = context.method === 'GET' && !context.noStore
    let predicted = false
    const outcome = createForwardOutcome({
      kind: 'miss',
      reason: undefined,
      requestHeaders: stripValidators(context.request.headers),
      clientHeaders: context.request.headers,
      captureBody: storable,
      maxBodyBytes: options.maxEntrySize,
      surrogateKeyHeader: options.surrogateKeyHeader,
      cacheStatus: (status, pairs) => {
        const guess = storable
          ? this.#predict(context, status, pairs)
          : { stored: false as const, reason: context.method === 'HEAD' ? Reason.Head : Reason.RequestNoStore }
        predicted = guess.stored
        return this.#status({
          fwd,
          fwdStatus: status,
          stored: guess.stored,
          ttl: guess.stored ? guess.ttl : undefined,
          detail: guess.stored ? detail : guess.reason,
        })
      },
      finish: async (captured) => {
        let admission: Admission | undefined
        try {
          if (captured !== undefined && storable) {
            admission = this.#admit(context, { ...captureInput(captured, requestTime, options.clock()), index: found.index })
          }
        } catch (error) {
          this.#report(error)
        } finally {
          leader?.settle(admission?.stored === true ? admission.entry : undefined)
        }
        this.observer.admitted(context, admission)
        if (admission?.stored === false && BOUND_REASONS.has(admission.reason)) this.#trip(admission.reason)
        if (admission?.stored === true) await this.observer.stored(context, admission, () => this.#entries.write(context, admission, found.index))
      },
    })
    const cdn = this.#cdnFor(context.request)
    if (cdn === undefined) return outcome
    const patch = outcome.patch
    // Only a response the engine will store is announced to the CDN: never a private or Set-Cookie one.
    outcome.patch = (status, headers) => {
      const base = patch(status, headers)
      if (!predicted) return base
      try {
        const pairs = toHeaderPairs(headers)
        return withFields(base, ownFieldsWin(cdnHeaders(cdn, collectTags(context, pairs, this.options)), pairs))
      } catch (error) {
        this.#report(error)
        return base
      }
    }
    return outcome
  }

  /** A stored response as a reply, with the CDN fields when the route has them. */
  #serve(entry: StoredResponse, request: HttpRequest, now: number, status: string): ReplyOutcome {
    const reply = serveStored(entry, request, now, status, 'hit')
    const cdn = this.#cdnFor(request)
    if (cdn === undefined) return reply
    const fields = ownFieldsWin(cdnHeaders(cdn, entry.tags), reply.headers)
    return fields.length === 0 ? reply : { ...reply, headers: [...reply.headers, ...fields] }
  }

  #cdnFor(request: HttpRequest): ResolvedCdnOptions | undefined {
    const route = request.route?.cdn
    return route === false ? undefined : (route ?? this.options.cdn)
  }

  /** Tells every purge hook; a failing hook is reported, never thrown. */
  async #notifyPurge(event: PurgeEvent): Promise<void> {
    const hooks = this.options.purgeHooks
    if (hooks.length === 0) return
    await Promise.all(
      hooks.map(async (hook, i) => {
        try {
          await hook.purge(event)
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          this.#report(new Error(`purge hook ${hook.name ?? `#${i}`} failed: ${message}`, { cause: error }))
        }
      })
    )
  }

  /** RFC 5861 §3: one background refresh per stored response at a time. */
  #refresh(context: RequestContext, found: Lookup, refresh: RunHandler): void {
    const hash = found.entryHash as string
    if (this.#refreshing.has(hash)) return
    this.#refreshing.add(hash)
    const work = refreshInBackground(this.#services, context, found, refresh)
      .catch((error: unknown) => this.#report(error))
      .finally(() => this.#refreshing.delete(hash))
    this.#track(work)
  }

  #bypass(request: HttpRequest, reason: Reason, invalidation: InvalidationBase | undefined): Outcome {
    this.observer.bypassed(request, reason)
    this.#trip(reason)
    // RFC 9211 §2.2: `method` when the method itself sends the request forward.
    const fwd: Forward = reason === Reason.Method ? 'method' : 'bypass'
    return createForwardOutcome({
      kind: 'bypass',
      reason,
      requestHeaders: request.headers,
      clientHeaders: undefined,
      captureBody: false,
      maxBodyBytes: 0,
      surrogateKeyHeader: this.options.surrogateKeyHeader,
      cacheStatus: (status) => this.#status({ fwd, fwdStatus: status, detail: reason }),
      finish: async (captured) => {
        if (invalidation === undefined || captured === undefined) return
        try {
          const pairs = toHeaderPairs(captured.headers)
          const tags = invalidationTags(captured.status, pairs, invalidation, this.options.query)
          if (tags.length > 0) await this.cache.invalidateTags(tags)
          const urls = tags.length > 0 && this.options.purgeHooks.length > 0 ? invalidationUrls(captured.status, pairs, invalidation, this.options.query) : []
          if (urls.length > 0) await this.#notifyPurge({ kind: 'url', tags: [], urls })
        } catch (error) {
          this.#report(error)
        }
      },
    })
  }

  #admit(context: RequestContext, input: AdmitInput): Admission {
    try {
      return admitResponse(context, input, this.options)
    } catch (error) {
      // A throwing tags function: an entry without its tags could never be purged by them.
      this.#report(error)
      return { stored: false, reason: Reason.Error }
    }
  }

  #predict(context: RequestContext, status: number, pairs: HeaderPairs): ReturnType<typeof predictStorage> {
    try {
      return predictStorage(context, status, pairs, this.options, this.options.clock())
    } catch (error) {
      this.#report(error)
      return { stored: false, reason: Reason.Error }
    }
  }

  /** Our Cache-Status member; `detail` only in debug mode (RFC 9211 §2.8), never the key. */
  #status(params: CacheStatusParams): string {
    // A plain hit is the hot path: its value changes only with `ttl`, once a second.
    if (params.hit === true && params.ttl !== undefined && params.fwd === undefined && params.fwdStatus === undefined && params.stored === undefined && params.collapsed === undefined && params.detail === undefined) {
      const ttl = Math.trunc(params.ttl)
      if (ttl !== this.#hitStatus.ttl) this.#hitStatus = { ttl, value: formatCacheStatus(this.options.cacheStatusName, { hit: true, ttl }) }
      return this.#hitStatus.value
    }
    if (!this.options.debug && params.detail !== undefined) params = { ...params, detail: undefined }
    return formatCacheStatus(this.options.cacheStatusName, params)
  }

  #track(work: Promise<void>): void {
    // Tracked work is built not to reject; if it ever did, it is reported, never left unhandled.
    const settled: Promise<void> = work
      .catch((error: unknown) => this.#report(error))
      .finally(() => this.#pending.delete(settled))
    this.#pending.add(settled)
  }

  #trip(reason: string): void {
    this.#trips.set(reason, (this.#trips.get(reason) ?? 0) + 1)
  }

  #report(error: unknown): void {
    if (error instanceof DecodeError) this.#trip('corrupt-entry')
    try {
      this.options.onError(error instanceof Error ? error : new Error(String(error)))
    } catch {
      // An onError that throws must not turn a swallowed cache fault into a failed request.
    }
  }
}

/** `patch` with `fields` set (replacing a surrogate-key field the handler set). */
function withFields(patch: ResponsePatch, fields: HeaderPairs): ResponsePatch {
  if (fields.length === 0) return patch
  const names = new Set(fields.map(([name]) => name))
  return { ...patch, remove: patch.remove.filter((name) => !names.has(name)), set: [...patch.set, ...fields] }
}

/** The CDN fields the response does not set itself: a handler's own Surrogate-Control or CDN-Cache-Control wins. */
function ownFieldsWin(fields: HeaderPairs, response: HeaderPairs): HeaderPairs {
  return fields.filter(([name]) => name === 'surrogate-key' || !response.some(([own]) => own === name))
}

/** `url` as an absolute URL for a purge hook (scheme-less purges are sent as http). */
function absoluteUrl(url: string, host: string | undefined): string {
  return new URL(url, `http://${host ?? 'localhost'}`).href
}

/**
 * Builds an engine: options are validated here, once.
 *
 * @example
 * ```ts
 * import { createHttpCache } from '@cachewire/http'
 * const engine = createHttpCache({ ttl: '1m', staleIfError: '10m' })
 * ```
 */
export function createHttpCache(options: HttpCacheOptions | ResolvedHttpCacheOptions = {}): HttpCache {
  return new HttpCache(options)
}
