import { LRUCache } from 'lru-cache'

/** What a waiter gets when the leader did not finish in time. */
export const COALESCE_TIMEOUT: unique symbol = Symbol('cachewire.coalesce-timeout')

interface Slot<T> {
  startedAt: number
  promise: Promise<T | undefined | typeof COALESCE_TIMEOUT>
  resolve: (value: T | undefined | typeof COALESCE_TIMEOUT) => void
  timer: ReturnType<typeof setTimeout> | undefined
}

/** Settled values kept for requests whose lookup began before the run settled. */
const MAX_SETTLED = 1024

interface Settled<T> {
  value: T
  /** The settle count this run made (see `ticket`). */
  seq: number
  at: number
}

/** Handed to the request that goes to the origin; settle it exactly once. */
export interface CoalesceLeader<T> {
  /** Wake the waiters with the stored value, or undefined when nothing reusable was stored. */
  settle(value: T | undefined): void
}

/**
 * Request coalescing: concurrent misses for one key wait for the first one's handler run instead
 * of each running the handler. State is per instance, never module-level, so two engines (or an
 * ESM and a CJS copy) never share waiters. A waiter never waits longer than `timeoutMs`; a leader
 * that never settles is forgotten after `timeoutMs`, so one lost request cannot stall a key.
 *
 * It works in process, whatever the store does: a request whose lookup began before a run
 * settled (it holds an earlier `ticket`) joins that run even after it ended, so a lookup that
 * missed because the write was not visible yet (or the store is down) never runs the handler
 * again. A request that began later looks the store up itself.
 *
 * Only an engine whose lookups can wait on I/O needs those kept values: made with `keepsSettled`
 * (its third argument) false, a coalescer keeps none until `lookupWentAsync()` says a lookup
 * went through a promise. An in-process store's lookup and the join that follows run in one
 * synchronous stretch, so no run can settle between them; and keeping each stored miss's whole
 * response for late joiners that never come made it outlive the young generation (a flood of
 * new paths on a memory store paid a full collection every few thousand misses for them).
 *
 * @example
 * ```ts
 * const coalescer = new Coalescer<StoredResponse>(5000, Date.now)
 * const waiting = coalescer.join(key)
 * if (waiting === undefined) coalescer.lead(key).settle(entry)
 * else console.log(await waiting)
 * ```
 */
export class Coalescer<T> {
  readonly #slots = new Map<string, Slot<T>>()
  /**
   * The last value settled per key, in settle order (read with `peek`, which keeps it), at most
   * MAX_SETTLED. Not a Map used as a queue: V8 keeps a Map's deleted slots until it rehashes, and
   * each look at the oldest entry walked them, about 500 slots (7 k instructions) a stored miss.
   */
  readonly #settled = new LRUCache<string, Settled<T>>({ max: MAX_SETTLED })
  /**
   * No kept value settled before this (Infinity when none is kept): until the timeout has passed
   * since it, nothing can have expired and `#keep` skips the look at the oldest.
   */
  #oldestAt = Infinity
  #seq = 0
  #keepsSettled: boolean
  readonly #timeoutMs: number
  readonly #clock: () => number

  constructor(timeoutMs: number, clock: () => number, keepsSettled = true) {
    this.#timeoutMs = timeoutMs
    this.#clock = clock
    this.#keepsSettled = keepsSettled
  }

  /** A lookup went through a promise (a store that needs I/O): from now on settled values are kept. */
  lookupWentAsync(): void {
    this.#keepsSettled = true
  }

  /** How many settled values are kept for late joiners. */
  get keptSettled(): number {
    return this.#settled.size
  }

  /** How many runs have settled with a value so far: take it before a lookup, pass it to `join`. */
  ticket(): number {
    return this.#seq
  }

  /**
   * Wait for the request already going to the origin for `key`; or, with the `ticket` taken
   * before this request's lookup, the value of a run that settled since; else undefined.
   */
  join(key: string, ticket?: number): Promise<T | undefined | typeof COALESCE_TIMEOUT> | undefined {
    const slot = this.#slots.get(key)
    if (slot === undefined) return ticket === undefined ? undefined : this.#since(key, ticket)
    // Belt and braces for a clock that runs ahead of timers (tests inject clocks).
    if (this.#clock() - slot.startedAt >= this.#timeoutMs) {
      this.#expire(key, slot)
      return undefined
    }
    return slot.promise
  }

  /** Become the request that goes to the origin for `key`. */
  lead(key: string): CoalesceLeader<T> {
    let resolve!: Slot<T>['resolve']
    const promise = new Promise<T | undefined | typeof COALESCE_TIMEOUT>((done) => (resolve = done))
    const slot: Slot<T> = { startedAt: this.#clock(), promise, resolve, timer: undefined }
    // The timer frees the slot even if the leader never settles and nobody waits, so a lost
    // request can neither stall its key nor leak the slot.
    slot.timer = setTimeout(() => this.#expire(key, slot), this.#timeoutMs)
    // A pending slot must not keep the process alive on its own.
    slot.timer.unref?.()
    this.#slots.set(key, slot)
    let settled = false
    return {
      settle: (value) => {
        if (settled) return
        settled = true
        if (slot.timer !== undefined) clearTimeout(slot.timer)
        if (this.#slots.get(key) === slot) this.#slots.delete(key)
        if (value !== undefined) this.#keep(key, value)
        slot.resolve(value)
      },
    }
  }

  /** Frees every slot: waiters run the handler themselves, no timer is left (the engine is closing). */
  close(): void {
    for (const [key, slot] of [...this.#slots]) this.#expire(key, slot)
    this.forgetSettled()
  }

  /** Forgets settled values (after a purge: what was purged must not answer a late joiner). */
  forgetSettled(): void {
    this.#settled.clear()
    this.#oldestAt = Infinity
  }

  #keep(key: string, value: T): void {
    const seq = ++this.#seq
    if (!this.#keepsSettled) return
    const now = this.#clock()
    if (now - this.#oldestAt >= this.#timeoutMs) this.#dropExpired(now)
    // Set again, the key becomes the newest; past MAX_SETTLED the oldest goes.
    this.#settled.set(key, { value, seq, at: now })
    // A clock that stepped back keeps the bound a bound.
    this.#oldestAt = Math.min(this.#oldestAt, now)
  }

  /**
   * Settled values older than the timeout can answer nobody (`#since` refuses them), yet they hold
   * whole responses: they are dropped from the head (oldest first) so a burst of misses does not
   * pin up to MAX_SETTLED bodies until 1,024 newer ones arrive.
   */
  #dropExpired(now: number): void {
    this.#oldestAt = Infinity
    for (;;) {
      const oldestKey = this.#settled.rkeys().next().value
      if (oldestKey === undefined) return
      const oldest = this.#settled.peek(oldestKey) as Settled<T>
      if (now - oldest.at < this.#timeoutMs) {
        this.#oldestAt = oldest.at
        return
      }
      this.#settled.delete(oldestKey)
    }
  }

  #since(key: string, ticket: number): Promise<T> | undefined {
    const settled = this.#settled.peek(key)
    if (settled === undefined || settled.seq <= ticket) return undefined
    if (this.#clock() - settled.at >= this.#timeoutMs) {
      this.#settled.delete(key)
      return undefined
    }
    return Promise.resolve(settled.value)
  }

  /** Keys with a request in flight (for tests and stats). */
  get size(): number {
    return this.#slots.size
  }

  /** Settled values kept for late joiners (for tests). */
  get settledSize(): number {
    return this.#settled.size
  }

  #expire(key: string, slot: Slot<T>): void {
    if (slot.timer !== undefined) clearTimeout(slot.timer)
    if (this.#slots.get(key) === slot) this.#slots.delete(key)
    slot.resolve(COALESCE_TIMEOUT)
  }
}
