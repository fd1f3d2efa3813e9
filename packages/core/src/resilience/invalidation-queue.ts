import type { EventEmitter } from 'node:events'
import {
  CachewireError,
  QueueFullError,
  StoreError,
  StoreTimeoutError,
  StoreUnavailableError,
} from '../errors.js'
import type { CacheEvents, InvalidationResult, InvalidationTarget } from '../types.js'
import type { StoreCalls } from './store-call.js'

/** One invalidation, as the queue runs it. */
export interface Invalidation {
  readonly target: InvalidationTarget
  /** The store operation it is (`invalidateTags`, `delete`, …), for the error a failure reports. */
  readonly operation: string
  /** Equal ids name the same invalidation: asked again while queued, it is not queued twice. */
  readonly id: string
  /** Applies it to the store; resolves what was removed, rejects when the store could not be reached. */
  apply(retry: boolean): Promise<number>
  /** While queued, a read of this one store key misses (a `delete`). */
  hidesKey?: string
  /** While queued: whether a read of `storeKey` must miss (it is among what this purges: a pattern, a clear). */
  hides?(storeKey: string): boolean
  /** Once applied: events, stats. */
  applied?(removed: number): void
}

export interface InvalidationQueueOptions {
  maxSize: number
  clock: () => number
  calls: StoreCalls
  events: EventEmitter<CacheEvents>
}

interface Entry {
  readonly invalidation: Invalidation
  readonly askedAt: number
  attempts: number
  announced: boolean
}

/** Retries back off from this, doubling per failed round, up to the cap; a store recovery retries at once. */
const RETRY_BASE_MS = 100
const RETRY_MAX_MS = 5000
/**
 * Queued invalidations applied at once, per round. They are all removals, which commute: the
 * store ends the same whatever their order within a round, and a backlog of thousands (a
 * database change naming 2,000 keys during an outage) drains in seconds, not minutes.
 */
const ROUND_SIZE = 64

/**
 * Invalidations that could not reach the store, kept in order and retried until applied, so a
 * purge asked for during an outage is never lost: the caller hears `queued`, the queue retries
 * with backoff (at once when the store says it recovered), and `invalidation-applied` tells when
 * it went through. Bounded: when full, a new invalidation is `failed` (and an error is emitted).
 * Each invalidation first goes straight to the store (they are all removals, which commute, so
 * one applied now need not wait behind one queued earlier); one that succeeds while others wait
 * drains the queue at once. One per cache; its namespace views share it.
 */
export class InvalidationQueue {
  readonly #options: InvalidationQueueOptions
  #entries: Entry[] = []
  /** Store keys hidden by queued deletes (how many deletes each), so a read checks in O(1). */
  readonly #hiddenKeys = new Map<string, number>()
  /** Queued invalidations that hide by a rule (patterns, clear): few. */
  #hiding: Invalidation[] = []
  #draining = false
  #failures = 0
  #timer: NodeJS.Timeout | undefined
  #idleWaiters: Array<() => void> = []
  /** Asked to retry while a round was under way (the store recovered meanwhile): retry at once after it. */
  #wakeRequested = false
  #closed = false

  constructor(options: InvalidationQueueOptions) {
    this.#options = options
  }

  /** Invalidations waiting for the store. */
  get size(): number {
    return this.#entries.length
  }

  /**
   * Applies `invalidation` now if the store takes it (`applied`), else queues it for retries
   * (`queued`); `failed` when the queue is full or the store says it cannot do it.
   */
  submit(invalidation: Invalidation): Promise<InvalidationResult> {
    const twin = this.#entries.find((entry) => entry.invalidation.id === invalidation.id)
    if (twin !== undefined) {
      // The same purge is already waiting: that one will do.
      this.wake()
      return Promise.resolve({ status: 'queued', removed: 0 })
    }
    if (this.#entries.length >= this.#options.maxSize) {
      this.#options.calls.report(
        new QueueFullError(
          this.#options.maxSize,
          `invalidation queue is full (${this.#options.maxSize} waiting for the store); this invalidation was not applied`
        )
      )
      return Promise.resolve({ status: 'failed', removed: 0 })
    }
    return this.#direct(invalidation)
  }

  /** Whether a queued invalidation hides `storeKey` from reads. Cheap when nothing is queued. */
  hides(storeKey: string): boolean {
    if (this.#entries.length === 0) return false
    if (this.#hiddenKeys.has(storeKey)) return true
    for (const invalidation of this.#hiding)
      if (invalidation.hides?.(storeKey) === true) return true
    return false
  }

  /** Retries now (the store has recovered, or someone waits for the queue to drain). */
  wake(): void {
    if (this.#entries.length === 0 || this.#closed) return
    if (this.#draining) this.#wakeRequested = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    void this.#drain()
  }

  /** Resolves `true` once nothing is queued, or `false` after `timeoutMs` with some still queued. */
  async idle(timeoutMs: number): Promise<boolean> {
    if (this.#entries.length === 0) return true
    this.wake()
    let timer: NodeJS.Timeout | undefined
    const drained = await new Promise<boolean>((resolve) => {
      const waiter = (): void => resolve(true)
      this.#idleWaiters.push(waiter)
      timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((other) => other !== waiter)
        resolve(false)
      }, timeoutMs)
      timer.unref()
    })
    clearTimeout(timer)
    return drained
  }

  /** Stops retrying. What is still queued stays counted in `size`. */
  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** Straight to the store; queued only if the store cannot be reached. */
  async #direct(invalidation: Invalidation): Promise<InvalidationResult> {
    const entry: Entry = {
      invalidation,
      askedAt: this.#options.clock(),
      attempts: 1,
      announced: false,
    }
    let removed: number
    try {
      removed = await invalidation.apply(false)
    } catch (error) {
      if (!mayPass(error)) {
        this.#options.calls.report(this.#options.calls.wrap(invalidation.operation, error))
        return { status: 'failed', removed: 0 }
      }
      if (this.#entries.length >= this.#options.maxSize) {
        this.#options.calls.report(this.#options.calls.wrap(invalidation.operation, error))
        this.#options.calls.report(
          new QueueFullError(
            this.#options.maxSize,
            `invalidation queue is full (${this.#options.maxSize} waiting for the store); this invalidation was not applied`
          )
        )
        return { status: 'failed', removed: 0 }
      }
      this.#enqueue(entry)
      this.#stall(error)
      return { status: 'queued', removed: 0 }
    }
    invalidation.applied?.(removed)
    // The store answers: what waits may go now.
    if (this.#entries.length > 0) this.wake()
    return { status: 'applied', removed }
  }

  async #drain(): Promise<void> {
    if (this.#draining || this.#closed) return
    this.#draining = true
    this.#wakeRequested = false
    try {
      while (this.#entries.length > 0) {
        const round = this.#entries.slice(0, ROUND_SIZE)
        const outcomes = await Promise.allSettled(
          round.map((entry) => {
            const retry = entry.attempts > 0
            entry.attempts++
            return entry.invalidation.apply(retry)
          })
        )
        const finished = new Set<Entry>()
        let stalled: { error: unknown } | undefined
        outcomes.forEach((outcome, i) => {
          const entry = round[i] as Entry
          if (outcome.status === 'fulfilled') {
            finished.add(entry)
            this.#applied(entry, outcome.value)
          } else if (!mayPass(outcome.reason)) {
            finished.add(entry)
            this.#drop(entry, outcome.reason)
          } else {
            stalled ??= { error: outcome.reason }
          }
        })
        this.#entries = this.#entries.filter((entry) => !finished.has(entry))
        for (const entry of finished) this.#unhide(entry.invalidation)
        if (finished.size > 0) this.#failures = 0
        if (stalled !== undefined) {
          // The store recovered while this round waited on it: its failures are stale news.
          if (this.#wakeRequested) {
            this.#wakeRequested = false
            continue
          }
          this.#stall(stalled.error)
          return
        }
      }
      for (const waiter of this.#idleWaiters.splice(0)) waiter()
    } finally {
      this.#draining = false
    }
  }

  #enqueue(entry: Entry): void {
    this.#entries.push(entry)
    const { hidesKey } = entry.invalidation
    if (hidesKey !== undefined)
      this.#hiddenKeys.set(hidesKey, (this.#hiddenKeys.get(hidesKey) ?? 0) + 1)
    if (entry.invalidation.hides !== undefined) this.#hiding.push(entry.invalidation)
  }

  #unhide(invalidation: Invalidation): void {
    const { hidesKey } = invalidation
    if (hidesKey !== undefined) {
      const left = (this.#hiddenKeys.get(hidesKey) ?? 1) - 1
      if (left > 0) this.#hiddenKeys.set(hidesKey, left)
      else this.#hiddenKeys.delete(hidesKey)
    }
    if (invalidation.hides !== undefined)
      this.#hiding = this.#hiding.filter((other) => other !== invalidation)
  }

  #applied(entry: Entry, removed: number): void {
    entry.invalidation.applied?.(removed)
    if (entry.announced) {
      const delayMs = Math.max(0, this.#options.clock() - entry.askedAt)
      this.#options.events.emit('invalidation-applied', {
        target: entry.invalidation.target,
        removed,
        attempts: entry.attempts,
        delayMs,
      })
    }
  }

  /** The store says it cannot do this one (not that it cannot be reached): `failed`, and the queue moves on. */
  #drop(entry: Entry, error: unknown): void {
    // It was announced as queued: say it is gone, never silently.
    this.#options.calls.report(new StoreError(entry.invalidation.operation, error))
  }

  /** What was just queued is announced (`invalidation-queued`); one retry timer, backing off. */
  #stall(error: unknown): void {
    const reported = this.#options.calls.wrap('invalidate', error)
    this.#options.calls.report(reported)
    for (const entry of this.#entries) {
      if (entry.announced) continue
      entry.announced = true
      this.#options.events.emit('invalidation-queued', {
        target: entry.invalidation.target,
        queued: this.#entries.length,
        error: reported,
      })
    }
    // Many calls failing at once (an outage) make one failed round, not many: one retry timer.
    if (this.#timer !== undefined || this.#closed) return
    this.#failures++
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.#failures - 1))
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#drain()
    }, delay)
    this.#timer.unref()
  }
}

/**
 * Whether a retry may succeed: a timeout, a store not reached, a `StoreError`, or any error the
 * store did not type itself (a lost connection, a refused write). Another `CachewireError` the
 * store raised (an operation it does not support, a bad argument) would fail again: not queued.
 */
function mayPass(error: unknown): boolean {
  if (
    error instanceof StoreTimeoutError ||
    error instanceof StoreUnavailableError ||
    error instanceof StoreError
  )
    return true
  return !(error instanceof CachewireError)
}
