import { InvalidArgumentError, InvalidOptionError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'
import type { Clock } from '../clock.js'
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
}

/** What cache-aside needs of the cache view it runs for (a `Cache` provides it). */
export interface WrapHost {
  /** The view's namespace: single-flight is per namespace and key. */
  readonly namespace: string | undefined
  get<T>(key: string): Promise<T | undefined>
  /** The value with its remaining TTL (`Infinity` when the store cannot tell). */
  getWithTtl<T>(key: string): Promise<{ value: T; ttlMs: number } | undefined>
  set(key: string, value: unknown, options: SetOptions): Promise<boolean>
  acquireLock(name: string, ttlMs: number): Promise<LockHandle | undefined>
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

const WRAP_OPTIONS = ['ttl', 'tags', 'cacheIf', 'lock', 'earlyRefresh'] as const
const LOCK_OPTIONS = ['ttl', 'wait'] as const

/** How many loader durations are remembered for early refresh. */
const LOADER_DURATIONS_KEPT = 10_000

/** Between polls of a waiter for a value another process is loading under the fill lock. */
const LOCK_POLL_MS = 25

/** Recent loader durations per key (ms), for XFetch's delta; insertion-ordered and bounded. */
export class LoaderDurations {
  readonly #durations = new Map<string, number>()

  record(key: string, ms: number): void {
    this.#durations.delete(key)
    this.#durations.set(key, ms)
    if (this.#durations.size > LOADER_DURATIONS_KEPT)
      this.#durations.delete(this.#durations.keys().next().value as string)
  }

  get(key: string): number | undefined {
    return this.#durations.get(key)
  }
}

/**
 * Cache-aside for one cache view: `wrap` with in-process single-flight, an optional fill lock
 * across processes, and optional XFetch early refresh.
 */
export class CacheAside {
  readonly #host: WrapHost
  readonly #context: WrapContext

  constructor(host: WrapHost, context: WrapContext) {
    this.#host = host
    this.#context = context
  }

  /** See `Cache.wrap`. `key` is already checked by the caller; `trace` (when traced) gets the outcome. */
  async wrap<T>(key: string, loader: () => T | Promise<T>, options: WrapOptions<T>, trace?: WrapTraceContext): Promise<T> {
    if (typeof loader !== 'function') throw new InvalidArgumentError('loader', 'a function', loader)
    if (typeof options !== 'object' || options === null)
      throw new InvalidArgumentError('options', 'an options object', options)
    rejectUnknownOptions(options, WRAP_OPTIONS, '')
    // Checked now, not when the loaded value is written: a bad TTL is the caller's error, not a store fault.
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
    const host = this.#host
    const flights = this.#context.flights
    const flightKey = `${host.namespace ?? ''}\u0000${key}`
    return flights.run(flightKey, async () => {
      const cached =
        beta > 0
          ? await host.getWithTtl<T>(key)
          : await host
              .get<T>(key)
              .then((value) => (value === undefined ? undefined : { value, ttlMs: Infinity }))
      if (trace !== undefined) trace.outcome = cached === undefined ? 'miss' : 'hit'
      if (cached !== undefined) {
        if (beta > 0 && this.#refreshEarly(flightKey, cached.ttlMs, beta)) {
          void flights
            .run(`${flightKey}\u0000refresh`, async () => ({
              value: await this.#load(key, flightKey, loader, options),
            }))
            .catch((error: unknown) => host.report(toError(error)))
        }
        return { value: cached.value }
      }
      if (lock === undefined) {
        const value = await this.#timedLoad(flightKey, loader)
        if (value === undefined || (options.cacheIf !== undefined && !options.cacheIf(value)))
          return { value }
        // The value goes back to callers now; the key stays claimed until the write lands.
        const written = host
          .set(key, value, { ttl: options.ttl, tags: options.tags })
          .catch((error: unknown) => host.report(toError(error)))
        return { value, holdUntil: written }
      }
      const handle = await host.acquireLock(`fill:${key}`, lock.ttlMs)
      if (handle === undefined) {
        // Another process is loading: wait for its value, then fail open and load ourselves.
        const value = await this.#waitForPeer<T>(key, lock.waitMs)
        if (value !== undefined) return { value }
        return { value: await this.#load(key, flightKey, loader, options) }
      }
      try {
        return { value: await this.#load(key, flightKey, loader, options) }
      } finally {
        await handle.release()
      }
    })
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
    options: WrapOptions<T>
  ): Promise<T> {
    const value = await this.#timedLoad(flightKey, loader)
    if (value !== undefined && (options.cacheIf === undefined || options.cacheIf(value)))
      await this.#host.set(key, value, { ttl: options.ttl, tags: options.tags })
    return value
  }

  /** XFetch: refresh when now - delta * beta * ln(rand) >= expiry, i.e. -delta * beta * ln(rand) >= remaining TTL. */
  #refreshEarly(flightKey: string, ttlMs: number, beta: number): boolean {
    const delta = this.#context.loaderDurations.get(flightKey)
    if (delta === undefined || !Number.isFinite(ttlMs)) return false
    return -delta * beta * Math.log(this.#context.random()) >= ttlMs
  }
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
