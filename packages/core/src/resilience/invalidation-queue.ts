import type { EventEmitter } from 'node:events'
import { CachewireError, QueueFullError, StoreError, StoreTimeoutError, StoreUnavailableError } from '../errors.js'
import type { CacheEvents, InvalidationResult, InvalidationTarget } from '../types.js'
import type { StoreCalls } from './store-call.js'

/** One invalidation, as the queue runs it. */
export interface Invalidation {
  readonly target: InvalidationTarget
  /** Equal ids name the same invalidation: asked again while queued, it is not queued twice. */
  readonly id: string
  /** Applies it to the store; resolves what was removed, rejects when the store could not be reached. */
  apply(retry: boolean): Promise<number>
  /** While queued: whether a read of `storeKey` must miss (it is among what this purges). */
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
  answer: ((result: InvalidationResult) => void) | undefined
}

/** Retries back off from this, doubling per failed round, up to the cap; a store recovery retries at once. */
const RETRY_BASE_MS = 100
const RETRY_MAX_MS = 5000

/**
 * Invalidations that could not reach the store, kept in order and retried until applied, so a
 * purge asked for during an outage is never lost: the caller hears `queued`, the queue retries
 * with backoff (at once when the store says it recovered), and `invalidation-applied` tells when
 * it went through. Bounded: when full, a new invalidation is `failed` (and an error is emitted).
 * One per cache; its namespace views share it.
 */
export class InvalidationQueue {
  readonly #options: InvalidationQueueOptions
  #entries: Entry[] = []
  #draining = false
  #failures = 0
  #timer: NodeJS.Timeout | undefined
  #idleWaiters: Array<() => void> = []
  #closed = false

  constructor(options: InvalidationQueueOptions) {
    this.#options = options
  }

  /** Invalidations waiting for the store. */
  get size(): number {
    return this.#entries.length
  }

  /**
   * Runs `invalidation` after everything queued before it. Resolves `applied` when the store took
   * it now, `queued` when it waits for a retry, `failed` when the queue is full.
   */
  submit(invalidation: Invalidation): Promise<InvalidationResult> {
    const twin = this.#entries.find((entry) => entry.invalidation.id === invalidation.id && entry.answer === undefined)
    if (twin !== undefined) {
      // The same purge is already waiting (and has been answered `queued`): that one will do.
      this.wake()
      return Promise.resolve({ status: 'queued', removed: 0 })
    }
    if (this.#entries.length >= this.#options.maxSize) {
      this.#options.calls.report(
        new QueueFullError(this.#options.maxSize, `invalidation queue is full (${this.#options.maxSize} waiting for the store); this invalidation was not applied`)
      )
      return Promise.resolve({ status: 'failed', removed: 0 })
    }
    return new Promise<InvalidationResult>((answer) => {
      this.#entries.push({ invalidation, askedAt: this.#options.clock(), attempts: 0, announced: false, answer })
      void this.#drain()
    })
  }

  /** Whether a queued invalidation hides `storeKey` from reads. Cheap when nothing is queued. */
  hides(storeKey: string): boolean {
    if (this.#entries.length === 0) return false
    for (const entry of this.#entries) if (entry.invalidation.hides?.(storeKey) === true) return true
    return false
  }

  /** Retries now (the store has recovered, or someone waits for the queue to drain). */
  wake(): void {
    if (this.#entries.length === 0 || this.#closed) return
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

  async #drain(): Promise<void> {
    if (this.#draining || this.#closed) return
    this.#draining = true
    try {
      while (this.#entries.length > 0) {
        const entry = this.#entries[0] as Entry
        const retry = entry.attempts > 0
        entry.attempts++
        let removed: number
        try {
          removed = await entry.invalidation.apply(retry)
        } catch (error) {
          if (!mayPass(error)) {
            this.#drop(entry, error)
            continue
          }
          this.#stall(error)
          return
        }
        this.#entries.shift()
        this.#failures = 0
        entry.invalidation.applied?.(removed)
        if (entry.announced) {
          const delayMs = Math.max(0, this.#options.clock() - entry.askedAt)
          this.#options.events.emit('invalidation-applied', { target: entry.invalidation.target, removed, attempts: entry.attempts, delayMs })
        }
        entry.answer?.({ status: 'applied', removed })
        entry.answer = undefined
      }
      for (const waiter of this.#idleWaiters.splice(0)) waiter()
    } finally {
      this.#draining = false
    }
  }

  /** The store says it cannot do this one (not that it cannot be reached): `failed`, and the queue moves on. */
  #drop(entry: Entry, error: unknown): void {
    this.#entries.shift()
    this.#options.calls.report(this.#options.calls.wrap('invalidate', error))
    entry.answer?.({ status: 'failed', removed: 0 })
    entry.answer = undefined
  }

  /** The head could not be applied: everyone still waiting for an answer hears `queued`; retry later. */
  #stall(error: unknown): void {
    const reported = this.#options.calls.wrap('invalidate', error)
    this.#options.calls.report(reported)
    for (const entry of this.#entries) {
      if (entry.announced) continue
      entry.announced = true
      this.#options.events.emit('invalidation-queued', { target: entry.invalidation.target, queued: this.#entries.length, error: reported })
      entry.answer?.({ status: 'queued', removed: 0 })
      entry.answer = undefined
    }
    this.#failures++
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.#failures - 1))
    clearTimeout(this.#timer)
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
  if (error instanceof StoreTimeoutError || error instanceof StoreUnavailableError || error instanceof StoreError) return true
  return !(error instanceof CachewireError)
}
