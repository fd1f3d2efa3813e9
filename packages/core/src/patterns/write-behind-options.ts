import { resolve } from 'node:path'
import type { Clock } from '../clock.js'
import { parseDuration, type Duration } from '../duration.js'
import { InvalidOptionError } from '../errors.js'
import { rejectUnknownOptions } from '../known-options.js'
import type { SetOptions } from '../types.js'

/** One acknowledged write waiting to be persisted. */
export interface PendingWrite<T> {
  key: string
  value: T
  /**
   * Hybrid logical clock: `max(Date.now() * 1000, last + 1)`, seeded from what is replayed at start,
   * so it grows with every write, across restarts too. A sink that keeps the version beside the row
   * can refuse an older write (a replay, a retry) over a newer one.
   */
  version: number
}

/** What `persist` is told about the batch it is given. */
export interface PersistContext {
  /**
   * The batch's id, the same on every retry of it (a retry may hold fewer writes: those overtaken by
   * a newer write of their key are dropped, never added). A sink that records the ids it applied, in
   * the same transaction as the rows, can skip a batch it already applied when a retry follows a
   * failure that happened after its COMMIT (a connection dropped before the answer came back).
   */
  batchId: string
  /** 1 on the first try, then 2, 3, … */
  attempt: number
}

/**
 * Where acknowledged writes are recorded before `write` resolves, so they survive a crash
 * (`RedisJournal` keeps them in a Redis Stream). Entries are acknowledged once persisted.
 */
export interface WriteJournal<T> {
  /** Records a write durably; resolves its journal id. */
  append(key: string, value: T, version: number): Promise<string>
  /** Forgets persisted writes. */
  acknowledge(ids: readonly string[]): Promise<void>
  /** Every write appended and not acknowledged, oldest first (`version` is absent on entries older journals wrote). */
  replay(): Promise<
    ReadonlyArray<{ id: string; key: string; value: T; version?: number | undefined }>
  >
}

export interface WriteBehindRetryOptions {
  /** Attempts per batch, the first included. @default 5 */
  attempts?: number
  /** Delay before the first retry; doubles each time. @default '100ms' */
  baseDelay?: Duration
  /** Longest delay between retries. @default '10s' */
  maxDelay?: Duration
}

export interface WriteBehindOptions<T> extends SetOptions {
  /**
   * Persists a batch to the source of truth. It must reject if any write in it failed. The batch
   * holds one write per key (the latest); `context.batchId` is stable across retries of the batch.
   */
  persist: (batch: ReadonlyArray<PendingWrite<T>>, context: PersistContext) => Promise<void>
  /** Writes per persist call. @default 100 */
  batchSize?: number
  /** How often queued writes are flushed. @default '1s' */
  flushInterval?: Duration
  /** Most distinct keys waiting. @default 10_000 */
  maxQueue?: number
  /** What `write` does when the queue is full: persist this write itself before acknowledging, or reject with `QueueFullError`. @default 'write-through' */
  onFull?: 'write-through' | 'reject'
  retry?: WriteBehindRetryOptions
  /**
   * Flush and close on SIGTERM and SIGINT. When no other listener of that signal exists, the process
   * then exits (0 after a clean flush, 1 after a spill); when the app listens too, the app decides
   * when to exit and should `await writer.close()` first. @default true
   */
  flushOnSignals?: boolean
  /**
   * How long `close()` (and so a signal) waits for the queue to drain. Past it, what is still not
   * persisted goes to the spill file (or stays in the journal), is counted on stderr, and is
   * replayed by the next writer that starts with the same `spillFile`. @default '10s'
   */
  shutdownTimeout?: Duration
  /**
   * Where writes left at the shutdown deadline are spilled: files `<spillFile>.<pid>-<random>`,
   * fsync'd, replayed and removed by the next writer started with the same path (relative paths
   * are resolved against the working directory when the writer is built). Give each writer of a
   * process its own path. `false` turns spilling off: leftovers are then only counted as lost.
   * @default '.cachewire/write-behind.spill'
   */
  spillFile?: string | false
  /**
   * Records each write before acknowledging it and replays unpersisted writes when the writer
   * starts, so a crash (kill -9) loses nothing acknowledged. See `RedisJournal`.
   */
  journal?: WriteJournal<T>
  /** Milliseconds since the epoch, for versions. @default Date.now */
  clock?: Clock
}

export interface ResolvedWriteBehindOptions<T> {
  persist: WriteBehindOptions<T>['persist']
  setOptions: SetOptions
  batchSize: number
  flushIntervalMs: number
  maxQueue: number
  onFull: 'write-through' | 'reject'
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
  flushOnSignals: boolean
  shutdownTimeoutMs: number
  spillFile: string | undefined
  journal: WriteJournal<T> | undefined
  clock: Clock
}

const KNOWN = [
  'persist',
  'batchSize',
  'flushInterval',
  'maxQueue',
  'onFull',
  'retry',
  'flushOnSignals',
  'shutdownTimeout',
  'spillFile',
  'journal',
  'clock',
  'ttl',
  'tags',
] as const
const KNOWN_RETRY = ['attempts', 'baseDelay', 'maxDelay'] as const

/** Validates and defaults a writer's options once, when it is built. */
export function resolveWriteBehindOptions<T>(
  options: WriteBehindOptions<T>
): ResolvedWriteBehindOptions<T> {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('persist', 'a function (batch) => Promise<void>', undefined)
  rejectUnknownOptions(options, KNOWN, '', { flushIntervalMs: 'flushInterval' })
  if (typeof options.persist !== 'function')
    throw new InvalidOptionError(
      'persist',
      'a function (batch, context) => Promise<void>',
      options.persist
    )
  const retry = options.retry ?? {}
  if (typeof retry !== 'object' || retry === null)
    throw new InvalidOptionError('retry', 'an object', retry)
  rejectUnknownOptions(retry, KNOWN_RETRY, 'retry', {
    baseDelayMs: 'baseDelay',
    maxDelayMs: 'maxDelay',
  })
  const onFull = options.onFull ?? 'write-through'
  if (onFull !== 'write-through' && onFull !== 'reject')
    throw new InvalidOptionError('onFull', "'write-through' or 'reject'", onFull)
  const spillFile = options.spillFile ?? '.cachewire/write-behind.spill'
  if (spillFile !== false && (typeof spillFile !== 'string' || spillFile.length === 0)) {
    throw new InvalidOptionError('spillFile', 'a file path, or false', spillFile)
  }
  if (options.clock !== undefined && typeof options.clock !== 'function')
    throw new InvalidOptionError('clock', 'a function returning milliseconds', options.clock)
  const journal = options.journal
  if (
    journal !== undefined &&
    (typeof journal?.append !== 'function' || typeof journal.replay !== 'function')
  ) {
    throw new InvalidOptionError('journal', 'a WriteJournal (append, acknowledge, replay)', journal)
  }
  return {
    persist: options.persist,
    setOptions: { ttl: options.ttl, tags: options.tags },
    batchSize: positiveInteger(options.batchSize ?? 100, 'batchSize'),
    maxQueue: positiveInteger(options.maxQueue ?? 10_000, 'maxQueue'),
    flushIntervalMs: duration(options.flushInterval, 'flushInterval', '1s'),
    onFull,
    attempts: positiveInteger(retry.attempts ?? 5, 'retry.attempts'),
    baseDelayMs: duration(retry.baseDelay, 'retry.baseDelay', '100ms'),
    maxDelayMs: duration(retry.maxDelay, 'retry.maxDelay', '10s'),
    flushOnSignals: options.flushOnSignals !== false,
    shutdownTimeoutMs: parseDuration(options.shutdownTimeout ?? '10s', 'shutdownTimeout', {
      kind: 'timeout',
    }),
    spillFile: spillFile === false ? undefined : resolve(spillFile),
    journal,
    clock: options.clock ?? Date.now,
  }
}

/** A timeout-kind duration (an interval or a retry delay). */
function duration(value: unknown, option: string, fallback: Duration): number {
  return parseDuration(value ?? fallback, option, { kind: 'timeout' })
}

function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    throw new InvalidOptionError(option, 'a positive integer', value)
  return value
}
