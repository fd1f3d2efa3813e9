import { StoreTimeoutError } from '../errors.js'

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
export function withDeadline<T>(operation: Promise<T>, deadlineMs: number, name: string): Promise<T> {
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) return operation
  return new Promise<T>((resolve, reject) => {
    // Timers run before the event loop polls for I/O: on a busy process the reply may already
    // sit in the socket when the timer fires. One poll phase (setImmediate) lets it be read, so
    // our own backlog is not mistaken for a sick store; a hung store still fails at the deadline.
    const timer = setTimeout(() => setImmediate(() => reject(new StoreTimeoutError(name, deadlineMs))), deadlineMs)
    // The timer must not keep a process alive that has nothing else to do.
    timer.unref()
    operation.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      }
    )
  })
}
