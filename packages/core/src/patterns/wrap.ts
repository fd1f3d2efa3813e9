import { LRUCache } from 'lru-cache'
import { InvalidArgumentError, InvalidOptionError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'
import type { Clock } from '../clock.js'
import type { EntryMeta } from '../reads.js'
import type { SetOptions } from '../types.js'
import type { LockHandle } from './lock.js'
import type { SingleFlight } from './single-flight.js'
import type { WrapTraceContext } from '../tracing.js'

export interface WrapOptions<T> extends SetOptions {
  /** Return `false` to hand the loaded value back without caching it. */
  cacheIf?: ((value: T) => boolean) | undefined
  /**
   * A fill lock across processes sharing the store (Redis: SET NX PX with a token): of N
   * processes missing the same key, one runs the loader; the others poll the cache for up to
   * `wait`, then run the loader themselves (fail open). `true` means `{ ttl: '10s', wait: '5s' }`.
   */
  lock?: boolean | { ttl?: Duration | undefined; wait?: Duration | undefined } | undefined
  /**
   * Probabilistic early refresh (XFetch, Vattani et al., VLDB 2015): a hit close to expiry
   * refreshes in the background with a probability that grows as expiry nears and with how long
   * the loader takes. The number is beta (1 is the paper's default; higher refreshes earlier).
   * The draw uses the cache's `random`.
   */
  earlyRefresh?: boolean | number | undefined
  /**
   * How long past `ttl` the value may still be served stale: while one refresh runs (callers get
   * the stale value instead of waiting), when the loader fails (its error is emitted, the stale
   * value returned) or when it exceeds `timeout`. Past `ttl + grace` the entry is gone and callers
   * wait for the loader as on a cold miss. `get` never returns a stale value. A lifetime: `'1h'`.
   * @default false (no grace: an expired value is a miss)
   */
  grace?: Duration | false | undefined
  /**
   * With `grace`: how long a caller holding a stale value waits for the refresh before taking the
   * stale value (the refresh goes on in the background and is cached when it lands). Without a
   * stale value callers wait for the loader, however long. `'200ms'`, or milliseconds.
   * @default 0 (stale-while-revalidate: answer stale at once)
   */
  timeout?: Duration | undefined
}

/** What cache-aside needs of the cache view it runs for (a `Cache` provides it). */
export interface WrapHost {
  /** The view's namespace: single-flight is per namespace and key. */
  readonly namespace: string | undefined
  get<T>(key: string): Promise<T | undefined>
  /**
   * `get` answered without I/O, counted the same: `{ value }` (`undefined`: a miss), or
   * `undefined` when only `get` can tell (a store that reads over the network, a traced read).
   */
  readSync<T>(key: string): { value: T | undefined } | undefined
  /** The fresh value with its remaining freshness (`Infinity` when the store cannot tell). */
  getWithTtl<T>(key: string): Promise<{ value: T; ttlMs: number } | undefined>
  /** The value with its lifetime, stale ones (kept for grace) included. */
  getWithMeta<T>(key: string): Promise<EntryMeta<T> | undefined>
  /** Stores a loaded value; `graceMs` keeps it that much longer, marked stale. */
  fill(key: string, value: unknown, options: SetOptions & { graceMs: number }): Promise<boolean>
  /** A write-behind write of `key` is waiting to be persisted: a loaded value must not be cached over it. */
  isPending(key: string): boolean
  acquireLock(name: string, ttlMs: number): Promise<LockHandle | undefined>
  /** Counts a caller that joined an in-flight load as a hit. */
  joined(key: string): void
  /** Counts a stale value served. */
  servedStale(key: string): void
  report(error: Error): void
}

/** What a cache and all its namespace views share for cache-aside. */
export interface WrapContext {
  readonly flights: SingleFlight
  readonly loaderDurations: LoaderDurations
  /** Time source for fill-lock waits. */
  readonly clock: Clock
  /** Time source for loader durations (XFetch's delta): monotonic unless a clock is injected. */
  readonly timer: () => number
  /** Uniform in [0, 1), for XFetch's draw. */
  readonly random: () => number
}

const WRAP_OPTIONS = ['ttl', 'tags', 'cacheIf', 'lock', 'earlyRefresh', 'grace', 'timeout'] as const
const LOCK_OPTIONS = ['ttl', 'wait'] as const

/** How many loader durations are remembered for early refresh. */
const LOADER_DURATIONS_KEPT = 10_000

/** Between polls of a waiter for a value another process is loading under the fill lock. */
const LOCK_POLL_MS = 25

/** Recent loader durations per key (ms), for XFetch's delta; in record order and bounded. */
export class LoaderDurations {
  /**
   * Not a Map used as a queue: V8 keeps a Map's deleted slots until it rehashes, and finding the
   * oldest key walked them, thousands a load once full. Made on the first record, as lru-cache
   * sizes its arrays for all of them up front and most caches never load through `wrap`.
   */
  #durations: LRUCache<string, number> | undefined

  record(key: string, ms: number): void {
    // Set again, the key becomes the newest; past the bound the oldest goes.
    ;(this.#durations ??= new LRUCache({ max: LOADER_DURATIONS_KEPT })).set(key, ms)
  }

  get(key: string): number | undefined {
    // `peek`: reading a duration does not make it newer.
    return this.#durations?.peek(key)
  }
}

/** Wrap options read once per call. */
interface Resolved<T> {
  options: WrapOptions<T>
  beta: number
  lock: { ttlMs: number; waitMs: number } | undefined
  graceMs: number
  timeoutMs: number
}

/**
 * Cache-aside for one cache view: `wrap` with in-process single-flight, an optional fill lock
 * across processes, optional XFetch early refresh, and an optional grace period with a loader
 * timeout.
 */
export class CacheAside {
  readonly #host: WrapHost
  readonly #context: WrapContext

  constructor(host: WrapHost, context: WrapContext) {
    this.#host = host
    this.#context = context
  }

  /** See `Cache.wrap`. `key` is already checked by the caller; `trace` (when traced) gets the outcome. */
  async wrap<T>(
    key: string,
    loader: () => T | Promise<T>,
    options: WrapOptions<T>,
    trace?: WrapTraceContext
  ): Promise<T> {
    const resolved = resolveWrapOptions(loader, options)
    const { beta, lock, graceMs } = resolved
    const host = this.#host
    const flights = this.#context.flights
    const flightKey = `${host.namespace ?? ''}\u0000${key}`
    if (flights.has(flightKey)) {
      // Joining a load (or read) in flight: the caller is answered without a load of its own.
      const value = await flights.run<T>(flightKey, () => Promise.reject(new Error('unreachable')))
      host.joined(key)
      return value
    }
    // A plain hit on a store that reads in process (memory, a tiered L1) needs no flight: nothing
    // to join or to load, so it is answered as `get` would answer it. A small record's wrap hit on
    // a MemoryStore: 0.40 of a `get` hit's rate before, 0.83 after; 6 microtask turns, now 1. A
    // miss told here is counted once: the flight loads at once.
    let toldMiss = false
    if (trace === undefined && graceMs === 0 && beta === 0) {
      const found = host.readSync<T>(key)
      if (found !== undefined && found.value !== undefined) return found.value
      toldMiss = found !== undefined
    }
    return flights.run(flightKey, async () => {
      if (graceMs > 0) {
        const entry = await host.getWithMeta<T>(key)
        if (trace !== undefined)
          trace.outcome = entry === undefined ? 'miss' : entry.stale ? 'stale' : 'hit'
        if (entry !== undefined && !entry.stale) return { value: entry.value }
        if (entry !== undefined)
          return {
            value: await this.#refreshOrStale(key, flightKey, loader, resolved, entry.value),
          }
      } else {
        // A miss the synchronous read told (and counted) is not read again: the flight starts
        // its work in the same turn, so nothing was stored in between.
        const cached = toldMiss
          ? undefined
          : beta > 0
            ? await host.getWithTtl<T>(key)
            : await host
                .get<T>(key)
                .then((value) => (value === undefined ? undefined : { value, ttlMs: Infinity }))
        if (trace !== undefined) trace.outcome = cached === undefined ? 'miss' : 'hit'
        if (cached !== undefined) {
          if (beta > 0 && this.#refreshEarly(flightKey, cached.ttlMs, beta))
            void this.#refresh(key, flightKey, loader, resolved).catch((error: unknown) =>
              host.report(toError(error))
            )
          return { value: cached.value }
        }
      }
      if (lock === undefined) {
        const value = await this.#timedLoad(flightKey, loader)
        if (!this.#cacheable(key, value, resolved.options)) return { value }
        // The value goes back to callers now; the key stays claimed until the write lands.
        const written = host
          .fill(key, value, { ttl: options.ttl, tags: options.tags, graceMs })
          .catch((error: unknown) => host.report(toError(error)))
        return { value, holdUntil: written }
      }
      const handle = await host.acquireLock(`fill:${key}`, lock.ttlMs)
      if (handle === undefined) {
        // Another process is loading: wait for its value, then fail open and load ourselves.
        const value = await this.#waitForPeer<T>(key, lock.waitMs)
        if (value !== undefined) return { value }
        return { value: await this.#load(key, flightKey, loader, resolved) }
      }
      try {
        return { value: await this.#load(key, flightKey, loader, resolved) }
      } finally {
        await handle.release()
      }
    })
  }

  /**
   * A stale value in hand: one refresh runs (joined by every caller meanwhile); each caller waits
   * for it at most `timeout`, and takes the stale value if it is not done or fails.
   */
  async #refreshOrStale<T>(
    key: string,
    flightKey: string,
    loader: () => T | Promise<T>,
    resolved: Resolved<T>,
    stale: T
  ): Promise<T> {
    const host = this.#host
    const refresh = this.#refresh(key, flightKey, loader, resolved)
    const fresh = await settleWithin(refresh, resolved.timeoutMs)
    if (fresh.done && fresh.ok) return fresh.value
    if (fresh.done) host.report(toError(fresh.error))
    else void refresh.catch((error: unknown) => host.report(toError(error)))
    host.servedStale(key)
    return stale
  }

  /** One background load per key at a time (in-process), written to the cache when it lands. */
  #refresh<T>(
    key: string,
    flightKey: string,
    loader: () => T | Promise<T>,
    resolved: Resolved<T>
  ): Promise<T> {
    return this.#context.flights.run(`${flightKey}\u0000refresh`, async () => ({
      value: await this.#load(key, flightKey, loader, resolved),
    }))
  }

  /** Polls the cache until the lock holder's value lands or `waitMs` passes on the cache's clock. */
  async #waitForPeer<T>(key: string, waitMs: number): Promise<T | undefined> {
    const clock = this.#context.clock
    const deadline = clock() + waitMs
    while (clock() < deadline) {
      await sleep(Math.min(LOCK_POLL_MS, Math.max(1, deadline - clock())))
      const value = await this.#host.get<T>(key)
      if (value !== undefined) return value
    }
    return undefined
  }

  async #timedLoad<T>(flightKey: string, loader: () => T | Promise<T>): Promise<T> {
    const timer = this.#context.timer
    const started = timer()
    const value = await loader()
    this.#context.loaderDurations.record(flightKey, timer() - started)
    return value
  }

  /** Loads and waits for the write, so a lock held around it covers the value landing in the store. */
  async #load<T>(
    key: string,
    flightKey: string,
    loader: () => T | Promise<T>,
    resolved: Resolved<T>
  ): Promise<T> {
    const value = await this.#timedLoad(flightKey, loader)
    if (this.#cacheable(key, value, resolved.options)) {
      const { ttl, tags } = resolved.options
      await this.#host.fill(key, value, { ttl, tags, graceMs: resolved.graceMs })
    }
    return value
  }

  /** A loaded value is cached unless undefined, refused by `cacheIf`, or shadowed by a pending write-behind write. */
  #cacheable<T>(key: string, value: T, options: WrapOptions<T>): boolean {
    if (value === undefined || (options.cacheIf !== undefined && !options.cacheIf(value)))
      return false
    // The loader read the source before a write-behind write of this key was persisted: its row is older.
    return !this.#host.isPending(key)
  }

  /** XFetch: refresh when now - delta * beta * ln(rand) >= expiry, i.e. -delta * beta * ln(rand) >= remaining TTL. */
  #refreshEarly(flightKey: string, ttlMs: number, beta: number): boolean {
    const delta = this.#context.loaderDurations.get(flightKey)
    if (delta === undefined || !Number.isFinite(ttlMs)) return false
    return -delta * beta * Math.log(this.#context.random()) >= ttlMs
  }
}

/** Checks a wrap call's arguments; a bad option is the caller's error, thrown before any store work. */
function resolveWrapOptions<T>(loader: unknown, options: WrapOptions<T>): Resolved<T> {
  if (typeof loader !== 'function') throw new InvalidArgumentError('loader', 'a function', loader)
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('options', 'an options object', options)
  rejectUnknownOptions(options, WRAP_OPTIONS, '')
  if (options.ttl !== undefined) parseDuration(options.ttl, 'ttl')
  const beta =
    options.earlyRefresh === true
      ? 1
      : options.earlyRefresh === false
        ? 0
        : (options.earlyRefresh ?? 0)
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0)
    throw new InvalidArgumentError(
      'options.earlyRefresh',
      'true, false or a non-negative number',
      options.earlyRefresh
    )
  const lock =
    options.lock === undefined || options.lock === false ? undefined : resolveLock(options.lock)
  const graceMs =
    options.grace === undefined || options.grace === false
      ? 0
      : parseDuration(options.grace, 'grace')
  const timeoutMs =
    options.timeout === undefined
      ? 0
      : parseDuration(options.timeout, 'timeout', { kind: 'timeout', allowZero: true })
  if (timeoutMs > 0 && graceMs === 0)
    throw new InvalidOptionError(
      'timeout',
      'used with grace (it bounds the wait of a caller holding a stale value)',
      options.timeout
    )
  return { options, beta, lock, graceMs, timeoutMs }
}

function resolveLock(option: true | { ttl?: Duration | undefined; wait?: Duration | undefined }): {
  ttlMs: number
  waitMs: number
} {
  if (option !== true && (typeof option !== 'object' || option === null))
    throw new InvalidOptionError('lock', 'true, false or { ttl?, wait? }', option)
  const settings = option === true ? {} : option
  rejectUnknownOptions(settings, LOCK_OPTIONS, 'lock')
  return {
    ttlMs: parseDuration(settings.ttl ?? '10s', 'lock.ttl'),
    waitMs: parseDuration(settings.wait ?? '5s', 'lock.wait', { kind: 'timeout' }),
  }
}

type Settled<T> =
  { done: true; ok: true; value: T } | { done: true; ok: false; error: unknown } | { done: false }

/** How `promise` stands after at most `ms` (0: only if it has settled already, after one turn). */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms)
  })
  const settled = promise.then(
    (value): Settled<T> => ({ done: true, ok: true, value }),
    (error: unknown): Settled<T> => ({ done: true, ok: false, error })
  )
  try {
    return await Promise.race([settled, late])
  } finally {
    clearTimeout(timer)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
