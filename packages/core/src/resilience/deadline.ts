import { StoreTimeoutError } from '../errors.js'

/** When a deadline starts counting. */
export interface DeadlineOptions {
  /**
   * `'now'`: at the call. `'after-send'`: after this turn of the event loop, once a client that
   * batches commands (ioredis auto-pipelining sends on `setImmediate`) has written this one: the
   * work of this turn (a burst of calls queueing behind it) is then not counted as the store's.
   * @default 'now'
   */
  start?: 'now' | 'after-send'
}

/**
 * Races `operation` against a timer. A late result is ignored (and a late rejection swallowed),
 * so a hung store costs the caller at most `deadlineMs` plus one turn of the event loop.
 *
 * @example
 * ```ts
 * import { withDeadline } from '@cachewire/core'
 * const value = await withDeadline(redis.getBuffer('k'), 50, 'get')
 * ```
 */
export function withDeadline<T>(
  operation: Promise<T>,
  deadlineMs: number,
  name: string,
  options: DeadlineOptions = {}
): Promise<T> {
  return raceDeadline(operation, deadlineMs, name, options.start === 'after-send', undefined)
}

/**
 * Told how a call raced against a deadline ends, before its promise settles: a caller that keeps
 * state by outcome (a connection slot, a circuit breaker) needs no promise chain of its own on top.
 */
export interface DeadlineWatch {
  /** The operation settled, answered or failed, even after its deadline passed. */
  settled(): void
  /** The call is about to resolve with the operation's value. */
  resolved(): void
  /** The call is about to reject with `error`: the operation's, or a `StoreTimeoutError`. */
  rejected(error: unknown): void
}

/** `withDeadline`, telling `watch` how the call ends. */
export function raceDeadline<T>(
  operation: Promise<T>,
  deadlineMs: number,
  name: string,
  afterSend: boolean,
  watch: DeadlineWatch | undefined
): Promise<T> {
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) {
    if (watch === undefined) return operation
    return operation.then(
      (value) => {
        watch.settled()
        watch.resolved()
        return value
      },
      (error: unknown) => {
        watch.settled()
        watch.rejected(error)
        throw error
      }
    )
  }
  return new Promise<T>((resolve, reject) => {
    const race = new DeadlineRace(name, deadlineMs, resolve, reject, watch)
    if (afterSend) race.group = TurnDeadlines.join(race)
    else race.arm()
    operation.then(
      (value) => race.answered(value),
      (error: unknown) => race.failed(error)
    )
  })
}

/**
 * Calls `expire` once `deadlineMs` has passed and the event loop has polled for I/O once more:
 * timers run before that poll, so on a busy process a reply may already sit in the socket when the
 * timer fires. One poll phase (setImmediate) lets it be read, so our own backlog is not mistaken
 * for a sick store; a hung store still fails at the deadline.
 */
function deadlineTimer(deadlineMs: number, expire: () => void): NodeJS.Timeout {
  const timer = setTimeout(() => setImmediate(expire), deadlineMs)
  // The timer must not keep a process alive that has nothing else to do.
  timer.unref()
  return timer
}

/** A call whose deadline can pass. */
interface Expiring {
  readonly deadlineMs: number
  /** The deadline passed: a call still unanswered fails with a `StoreTimeoutError`. */
  expire(): void
}

/** One call against its deadline: settles once, with the operation's outcome or a timeout. */
class DeadlineRace<T> implements Expiring {
  readonly name: string
  readonly deadlineMs: number
  readonly #resolve: (value: T) => void
  readonly #reject: (error: unknown) => void
  readonly #watch: DeadlineWatch | undefined
  /** The calls whose deadline starts with this one's, after the turn it was made in. */
  group: TurnDeadlines | undefined
  #operationSettled = false
  #callSettled = false
  #timer: NodeJS.Timeout | undefined

  constructor(
    name: string,
    deadlineMs: number,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
    watch: DeadlineWatch | undefined
  ) {
    this.name = name
    this.deadlineMs = deadlineMs
    this.#resolve = resolve
    this.#reject = reject
    this.#watch = watch
  }

  /** Starts this call's own timer (a deadline counted from the call). */
  arm(): void {
    this.#timer = deadlineTimer(this.deadlineMs, () => this.expire())
  }

  expire(): void {
    if (!this.#operationSettled) this.#fail(new StoreTimeoutError(this.name, this.deadlineMs))
  }

  answered(value: T): void {
    try {
      this.#operationEnded()
      if (this.#callSettled) return
      this.#callSettled = true
      this.#watch?.resolved()
    } catch (thrown) {
      // A watch that throws fails the call with its error, as a throw in the caller's own frame
      // would; it must not become an unhandled rejection of this handler.
      this.#callSettled = true
      this.#reject(thrown)
      return
    }
    this.#resolve(value)
  }

  failed(error: unknown): void {
    try {
      this.#operationEnded()
    } catch (thrown) {
      this.#fail(thrown)
      return
    }
    this.#fail(error)
  }

  #operationEnded(): void {
    this.#operationSettled = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.group?.settled()
    this.#watch?.settled()
  }

  #fail(error: unknown): void {
    if (this.#callSettled) return
    this.#callSettled = true
    try {
      this.#watch?.rejected(error)
    } catch (thrown) {
      this.#reject(thrown)
      return
    }
    this.#reject(error)
  }
}

/**
 * The calls of one turn of the event loop with one deadline, which starts after that turn: one
 * immediate for the turn and one timer for the group, not one of each per call (callgrind, Koa
 * front door on Redis at 1 KB: a timer and an immediate per read cost ~1.3 k instructions). The
 * group is let go once every call in it has settled, or when its timer fires.
 */
class TurnDeadlines {
  /** The groups of the turn under way; the immediate that arms them is queued with the first. */
  static #turn: TurnDeadlines[] = []

  static join(race: Expiring): TurnDeadlines {
    const turn = TurnDeadlines.#turn
    if (turn.length === 0) setImmediate(TurnDeadlines.#armTurn)
    let group: TurnDeadlines | undefined
    for (const each of turn) if (each.deadlineMs === race.deadlineMs) group = each
    if (group === undefined) {
      group = new TurnDeadlines(race.deadlineMs)
      turn.push(group)
    }
    group.#races.push(race)
    group.#unsettled++
    return group
  }

  static #armTurn(this: void): void {
    const turn = TurnDeadlines.#turn
    TurnDeadlines.#turn = []
    for (const group of turn) group.#arm()
  }

  readonly deadlineMs: number
  #races: Expiring[] = []
  #unsettled = 0
  #timer: NodeJS.Timeout | undefined

  private constructor(deadlineMs: number) {
    this.deadlineMs = deadlineMs
  }

  settled(): void {
    if (--this.#unsettled > 0) return
    this.#races = []
    if (this.#timer !== undefined) clearTimeout(this.#timer)
  }

  #arm(): void {
    if (this.#unsettled > 0) this.#timer = deadlineTimer(this.deadlineMs, () => this.#expire())
  }

  #expire(): void {
    const races = this.#races
    this.#races = []
    for (const race of races) race.expire()
  }
}

/** Resolves after `ms`, without keeping the process alive meanwhile. */
export function idle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

/** Waits for `promise` (which never rejects) or `ms`, whichever comes first. */
export async function waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}
