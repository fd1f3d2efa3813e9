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
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) return operation
  return new Promise<T>((resolve, reject) => {
    let settled = false
    let timer: NodeJS.Timeout | undefined
    const arm = (): void => {
      if (settled) return
      // Timers run before the event loop polls for I/O: on a busy process the reply may already
      // sit in the socket when the timer fires. One poll phase (setImmediate) lets it be read, so
      // our own backlog is not mistaken for a sick store; a hung store still fails at the deadline.
      timer = setTimeout(
        () => setImmediate(() => reject(new StoreTimeoutError(name, deadlineMs))),
        deadlineMs
      )
      // The timer must not keep a process alive that has nothing else to do.
      timer.unref()
    }
    if (options.start === 'after-send') setImmediate(arm)
    else arm()
    operation.then(
      (value) => {
        settled = true
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        settled = true
        clearTimeout(timer)
        reject(error)
      }
    )
  })
}
