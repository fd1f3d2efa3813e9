import { InvalidArgumentError, type Cache, type InvalidationResult } from '@cachewire/core'
import { publicTags } from '../cdn/cdn-headers.js'
import type { Lookup } from '../entry/entry-store.js'
import { HandlerFailure } from '../flows/revalidation-flow.js'
import type { EngineObserver } from '../observability/engine-observer.js'
import {
  lookupsTraced,
  pathOf,
  routeLabel,
  traceBase,
  traceLookup,
} from '../observability/tracing.js'
import {
  resolveHttpCacheOptions,
  type ResolvedHttpCacheOptions,
} from '../options/resolve-options.js'
import type { HttpCacheOptions } from '../options/types.js'
import { purgeTag } from '../request/purge-target.js'
import { withoutIgnoredParams } from '../request/query.js'
import { PreparedRequest, prepareRequest, refineRequest } from '../request/prepare-request.js'
import { Reason } from '../semantics/reasons.js'
import type { HttpRequest, Outcome, ReplyOutcome, RoutePolicy, RunHandler } from '../types.js'
import { EngineCore } from './core.js'
import { fromStored, frontDoorReply, miss } from './decide.js'
import { forwardBypass } from './forward.js'

/** What `lookup` answers for a request that does not use the cache. */
const NOT_LOOKED_UP: Lookup = Object.freeze({
  entry: undefined,
  entryHash: undefined,
  index: undefined,
  fwd: 'uri-miss',
})

/**
 * The HTTP caching engine: RFC 9111 shared-cache semantics over a core `Cache`. One per app: a
 * route's caching is a policy on it (`HttpRequest.route`), not an engine of its own. Each request
 * goes through it once: `prepare`, `lookup`, `handle` (or `respond`, the three in one).
 *
 * @example
 * ```ts
 * import { createHttpCache } from '@cachewire/http'
 * const engine = createHttpCache({ ttl: '1m' })
 * const outcome = await engine.respond(request, runHandler)
 * ```
 */
export class HttpCache {
  /** The core cache entries live in. */
  readonly cache: Cache
  readonly options: ResolvedHttpCacheOptions
  /** Counters, diagnostics_channel events and the debug log. See `observability/`. */
  readonly observer: EngineObserver
  readonly #core: EngineCore
  #closed: Promise<void> | undefined

  constructor(options: HttpCacheOptions | ResolvedHttpCacheOptions = {}) {
    this.options = resolveHttpCacheOptions(options)
    this.#core = new EngineCore(this.options)
    this.cache = this.options.cache
    this.observer = this.#core.observer
  }

  /**
   * Step 1: what the request is, under which key (a user's `key()` runs here, once). Never throws:
   * a throwing key function makes the request bypass with reason `error`.
   *
   * @example
   * ```ts
   * const prepared = engine.prepare({ method: 'GET', url: '/a', headers: {}, host: 'example.com', protocol: 'https' })
   * ```
   */
  prepare(request: HttpRequest): PreparedRequest {
    try {
      return prepareRequest(request, this.options, this.#core.hasher)
    } catch (error) {
      this.#core.report(error)
      return bypassed(request, undefined)
    }
  }

  /**
   * The same request under a route's policy (met downstream of an app-wide pass), reusing what
   * `prepared` knows: the app's `key()` does not run again. `prepared.sameEntry(refined)` says
   * whether the route keeps the pass's key.
   *
   * @example
   * ```ts
   * const refined = engine.refine(prepared, route)
   * ```
   */
  refine(prepared: PreparedRequest, route: RoutePolicy): PreparedRequest {
    try {
      return refineRequest(prepared, route, this.options, this.#core.hasher)
    } catch (error) {
      this.#core.report(error)
      return bypassed({ ...prepared.request, route }, prepared)
    }
  }

  /**
   * A request target without the query parameters the key ignores (`keys.query.ignore`): what an
   * adapter makes of every URL the handler reads when a prepared request has `ignoredParams`.
   * Works on a mount-relative target too; returns `url` itself when there is nothing to remove.
   *
   * @example
   * ```ts
   * engine.withoutIgnoredParams('/a?utm_source=mail&id=7') // '/a?id=7'
   * ```
   */
  withoutIgnoredParams(url: string): string {
    return withoutIgnoredParams(url, this.options.query)
  }

  /**
   * Step 2: the stored response the request selects, if any. A value when the store can answer
   * without I/O (memory), else a promise. Never rejects.
   *
   * @example
   * ```ts
   * const found = engine.lookup(prepared)
   * ```
   */
  lookup(prepared: PreparedRequest): Lookup | Promise<Lookup> {
    const { context, request } = prepared
    if (context === undefined) {
      const base = (): ReturnType<typeof traceBase> => ({
        method: request.method,
        path: pathOf(request.url),
        route: routeLabel(request.route),
      })
      return traceLookup(
        base,
        () => NOT_LOOKED_UP,
        () => ({ outcome: 'bypass', reason: prepared.bypass?.reason })
      )
    }
    try {
      const core = this.#core
      context.ticket = core.coalescer.ticket()
      const found = lookupsTraced()
        ? traceLookup(
            () => traceBase(context),
            () => core.entries.lookup(context),
            (looked) => ({
              outcome:
                looked.entry === undefined
                  ? 'miss'
                  : looked.entry.staleAt <= (looked.readAt ?? core.clock())
                    ? 'stale'
                    : 'hit',
            })
          )
        : core.entries.lookup(context)
      // A run can settle while this lookup waits: from now on it is kept for late joiners.
      if (found instanceof Promise) core.coalescer.lookupWentAsync()
      return found
    } catch (error) {
      this.#core.report(error)
      return NOT_LOOKED_UP
    }
  }

  /**
   * Step 3: how to answer: from the cache, by having the adapter run the handler live (storing
   * what it answers), or by calling `runHandler` to revalidate. A value when no handler run or
   * other request has to be awaited (a memory hit is answered in the request's own tick). Never
   * fails for a cache reason; rejects only with what `runHandler` rejected with when nothing may
   * stand in.
   *
   * @example
   * ```ts
   * const outcome = await engine.handle(prepared, await engine.lookup(prepared), runHandler, refresh)
   * ```
   */
  handle(
    prepared: PreparedRequest,
    found: Lookup,
    runHandler: RunHandler,
    refresh?: RunHandler
  ): Outcome | Promise<Outcome> {
    const core = this.#core
    const { context, request } = prepared
    if (context === undefined)
      return forwardBypass(
        core,
        request,
        prepared.bypass ?? { reason: Reason.Error, invalidation: undefined }
      )
    let ran = false
    const guarded: RunHandler = (origin) => {
      ran = true
      return runHandler(origin)
    }
    const fail = (error: unknown): Outcome => {
      if (error instanceof HandlerFailure) throw error.error
      // Once the handler has run, a bypass would run it twice; before, serve uncached.
      if (ran) throw error
      core.report(error)
      return forwardBypass(core, request, { reason: Reason.Error, invalidation: undefined })
    }
    try {
      const outcome =
        found.entry !== undefined
          ? fromStored(core, context, found, guarded, refresh)
          : miss(core, context, found)
      if (outcome instanceof Promise)
        return outcome.then((done) => core.observer.answered(context, found.entry, done), fail)
      return core.observer.answered(context, found.entry, outcome, found.readAt)
    } catch (error) {
      return fail(error)
    }
  }

  /**
   * The three steps at once, for an adapter that needs no control between them.
   *
   * @example
   * ```ts
   * const outcome = await engine.respond(request, runHandler, refresh)
   * ```
   */
  async respond(
    request: HttpRequest,
    runHandler: RunHandler,
    refresh?: RunHandler
  ): Promise<Outcome> {
    const prepared = this.prepare(request)
    return this.handle(prepared, await this.lookup(prepared), runHandler, refresh)
  }

  /**
   * For a front door in front of the framework: a reply when a stored response can answer the
   * request as it stands (a fresh hit, or a 304 from it), else `undefined` with nothing recorded,
   * so the request goes on to the app.
   *
   * @example
   * ```ts
   * const prepared = engine.prepare(request)
   * const reply = engine.answer(prepared, await engine.lookup(prepared))
   * if (reply === undefined) app(req, res)
   * ```
   */
  answer(prepared: PreparedRequest, found: Lookup): ReplyOutcome | undefined {
    if (prepared.context === undefined) return undefined
    try {
      return frontDoorReply(this.#core, prepared.context, found)
    } catch (error) {
      this.#core.report(error)
      return undefined
    }
  }

  /**
   * Removes every stored response for a URL: all schemes, variants and key-function parts.
   * `url` is absolute (`https://example.com/a?b=1`), or a path with `host` given. Resolves the
   * core's `InvalidationResult`: `applied` (with `removed`), `queued` (the store could not be
   * reached; retried until applied, local copies already dropped) or `failed`.
   *
   * @example
   * ```ts
   * const { status, removed } = await engine.purgeUrl('/products?id=7', 'shop.example.com')
   * ```
   */
  async purgeUrl(url: string, host?: string): Promise<InvalidationResult> {
    const result = purgeTag(url, host, this.options.query)
    if ('error' in result) {
      if (result.error === 'url')
        throw new InvalidArgumentError('url', 'an absolute URL or a path', url)
      throw new InvalidArgumentError('host', 'a host name (or an absolute url)', host)
    }
    const outcome = await this.#core.invalidateTags([result.tag])
    await this.#core.notifyPurge({
      kind: 'url',
      tags: [],
      urls: [new URL(url, `http://${host ?? 'localhost'}`).href],
    })
    return outcome
  }

  /**
   * Removes every stored response filed under any of `tags` (option, route and surrogate-key tags).
   * Resolves the core's `InvalidationResult`, as `purgeUrl` does.
   *
   * @example
   * ```ts
   * const { status } = await engine.invalidateTags(['products']) // 'applied' | 'queued' | 'failed'
   * ```
   */
  async invalidateTags(tags: readonly string[]): Promise<InvalidationResult> {
    const outcome = await this.#core.invalidateTags(tags)
    const forCdn = publicTags(tags)
    if (forCdn.length > 0) await this.#core.notifyPurge({ kind: 'tags', tags: forCdn, urls: [] })
    return outcome
  }

  /**
   * Drops every entry of a namespace of the cache (and the namespaces nested in it) by moving it
   * to a new version: O(1), nothing is counted (`removed` is 0 unless `sweep` deletes the old
   * generation). Resolves the core's `InvalidationResult`.
   *
   * @example
   * ```ts
   * const { status } = await engine.invalidateNamespace('catalog')
   * ```
   */
  invalidateNamespace(
    namespace: string,
    options: { sweep?: boolean } = {}
  ): Promise<InvalidationResult> {
    this.#core.coalescer.forgetSettled()
    return this.cache.namespace(namespace).invalidate(options)
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
    return this.#core.counters()
  }

  /** Resolves once background work (refreshes, writes after a revalidation) has settled. */
  whenIdle(): Promise<void> {
    return this.#core.whenIdle()
  }

  /**
   * Stops the engine: removes the listeners it added to the cache, frees its timers, and closes
   * the store if the engine made it (no `storage.cache` or `storage.store` given). Waits for
   * background work first. A given cache or store stays open: it is the caller's.
   *
   * @example
   * ```ts
   * await engine.close()
   * ```
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.whenIdle()
      this.#core.close()
      if (this.options.ownsStore) await this.cache.close()
    })()
    return this.#closed
  }
}

/** A prepared request that bypasses because preparing it failed (a throwing key function). */
function bypassed(request: HttpRequest, from: PreparedRequest | undefined): PreparedRequest {
  const facts = from?.facts ?? {
    target: undefined,
    host: undefined,
    allowed: undefined,
    query: undefined,
    ignored: false,
    appKey: undefined,
    ids: undefined,
  }
  return new PreparedRequest(request, { reason: Reason.Error, invalidation: undefined }, facts)
}

/**
 * Builds an engine: options are validated here, once.
 *
 * @example
 * ```ts
 * import { createHttpCache } from '@cachewire/http'
 * const engine = createHttpCache({ ttl: '1m', stale: { ifError: '10m' } })
 * ```
 */
export function createHttpCache(
  options: HttpCacheOptions | ResolvedHttpCacheOptions = {}
): HttpCache {
  return new HttpCache(options)
}
