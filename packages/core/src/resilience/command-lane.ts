import { StoreUnavailableError } from '../errors.js'

export interface CommandLaneOptions {
  /** Commands handed to the connection and not answered yet, at most. */
  maxInFlight: number
  /** Commands waiting for a slot, at most; one more is refused (`queue-full`). */
  maxQueue: number
  /** Longest wait for a slot; a command waiting longer is refused (`queue-timeout`). */
  queueTimeoutMs: number
}

/** What kind of call waits, so a caller can refuse the waiting reads or writes of a sick node. */
export type LaneDirection = 'read' | 'write'

interface Waiter {
  direction: LaneDirection
  enqueuedAt: number
  resolve: () => void
  reject: (error: Error) => void
}

/**
 * One connection's admission queue: at most `maxInFlight` commands are on the wire at once, and
 * the rest wait here, first in first out. A caller starts its command's deadline only once it
 * holds a slot, so the deadline measures the server, not the line in front of it; the wait here
 * has its own, larger bound. A slot is held until the command really settles (not just until its
 * deadline), so a hung connection stops taking new commands instead of piling them up.
 *
 * @example
 * ```ts
 * const lane = new CommandLane({ maxInFlight: 256, maxQueue: 50_000, queueTimeoutMs: 2000 })
 * await lane.acquire('read')
 * const reply = client.get('k')
 * void reply.finally(() => lane.release())
 * ```
 */
export class CommandLane {
  readonly #options: CommandLaneOptions
  #inFlight = 0
  #waiters: Waiter[] = []
  #head = 0
  #sweep: NodeJS.Timeout | undefined

  constructor(options: CommandLaneOptions) {
    this.#options = options
  }

  /** Commands holding a slot. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Commands waiting for a slot. */
  get queued(): number {
    return this.#waiters.length - this.#head
  }

  /**
   * Takes a slot: `undefined` when one was free at once (no promise work on the fast path), else a
   * promise that resolves once a slot is held, or rejects with a `StoreUnavailableError` whose
   * `reason` is `queue-full` or `queue-timeout`. Every slot taken must be given back by `release()`.
   */
  acquire(direction: LaneDirection): Promise<void> | undefined {
    if (this.#inFlight < this.#options.maxInFlight && this.queued === 0) {
      this.#inFlight++
      return undefined
    }
    if (this.queued >= this.#options.maxQueue) {
      return Promise.reject(
        new StoreUnavailableError(
          `store skipped: ${this.queued} commands already wait for this connection (maxQueue ${this.#options.maxQueue})`,
          { reason: 'queue-full' }
        )
      )
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ direction, enqueuedAt: performance.now(), resolve, reject })
      this.#armSweep()
    })
  }

  /** Gives a slot back; the longest waiter takes it. */
  release(): void {
    this.#inFlight--
    while (this.#inFlight < this.#options.maxInFlight && this.queued > 0) {
      const waiter = this.#shift() as Waiter
      this.#inFlight++
      waiter.resolve()
    }
    if (this.queued === 0) this.#disarmSweep()
  }

  /** Refuses every waiting call of `direction` at once with `error` (its node's breaker just opened). */
  rejectWaiting(direction: LaneDirection, error: () => Error): void {
    if (this.queued === 0) return
    const kept: Waiter[] = []
    for (let i = this.#head; i < this.#waiters.length; i++) {
      const waiter = this.#waiters[i] as Waiter
      if (waiter.direction === direction) waiter.reject(error())
      else kept.push(waiter)
    }
    this.#waiters = kept
    this.#head = 0
    if (kept.length === 0) this.#disarmSweep()
  }

  #shift(): Waiter | undefined {
    const waiter = this.#waiters[this.#head]
    if (waiter === undefined) return undefined
    this.#waiters[this.#head++] = undefined as unknown as Waiter
    // Compact now and then, so a long-lived lane does not keep a long array of holes.
    if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
      this.#waiters = this.#waiters.slice(this.#head)
      this.#head = 0
    }
    return waiter
  }

  /** One timer per lane, due when the oldest waiter runs out of patience. */
  #armSweep(): void {
    if (this.#sweep !== undefined) return
    const oldest = this.#waiters[this.#head]
    if (oldest === undefined) return
    const due = Math.max(0, oldest.enqueuedAt + this.#options.queueTimeoutMs - performance.now())
    this.#sweep = setTimeout(() => {
      this.#sweep = undefined
      this.#expire()
    }, due)
    this.#sweep.unref()
  }

  #disarmSweep(): void {
    clearTimeout(this.#sweep)
    this.#sweep = undefined
  }

  #expire(): void {
    const limit = performance.now() - this.#options.queueTimeoutMs
    // FIFO: the expired waiters are all at the head.
    while (this.queued > 0 && (this.#waiters[this.#head] as Waiter).enqueuedAt <= limit) {
      const waiter = this.#shift() as Waiter
      waiter.reject(
        new StoreUnavailableError(
          `store skipped: waited ${this.#options.queueTimeoutMs} ms for a free connection slot`,
          { reason: 'queue-timeout' }
        )
      )
    }
    this.#armSweep()
  }
}
