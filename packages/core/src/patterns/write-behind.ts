import { EventEmitter } from 'node:events'
import { ClosedError, InvalidOptionError, QueueFullError } from '../errors.js'
import type { Cache } from '../cache.js'
import type { SetOptions } from '../types.js'

export interface PendingWrite<T> {
  key: string
  value: T
  /** Increases with every acknowledged write; a later version of a key always wins. */
  version: number
}

/**
 * Where acknowledged writes are recorded before `write` resolves, so they survive a crash
 * (`RedisJournal` keeps them in a Redis Stream). Entries are acknowledged once persisted.
 */
export interface WriteJournal<T> {
  /** Records a write durably; resolves its journal id. */
  append(key: string, value: T): Promise<string>
  /** Forgets persisted writes. */
  acknowledge(ids: readonly string[]): Promise<void>
  /** Every write appended and not acknowledged, oldest first. */
  replay(): Promise<ReadonlyArray<{ id: string; key: string; value: T }>>
}

interface QueuedWrite<T> extends PendingWrite<T> {
  /** Journal ids of this write and of the older writes of the key it replaced. */
  journalIds: string[]
}

export interface WriteBehindRetryOptions {
  /** Attempts per batch, the first included. @default 5 */
  attempts?: number
  /** Delay before the first retry; doubles each time. @default 100 */
  baseDelayMs?: number
  /** Longest delay between retries. @default 10_000 */
  maxDelayMs?: number
}

export interface WriteBehindOptions<T> extends SetOptions {
  /** Persists a batch to the source of truth. It must reject if any write in it failed. */
  persist: (batch: ReadonlyArray<PendingWrite<T>>) => Promise<void>
  /** Writes per persist call. @default 100 */
  batchSize?: number
  /** How often queued writes are flushed. @default 1000 */
  flushIntervalMs?: number
  /** Most distinct keys waiting. @default 10_000 */
  maxQueue?: number
  /** What `write` does when the queue is full: persist this write itself before acknowledging, or reject with `QueueFullError`. @default 'write-through' */
  onFull?: 'write-through' | 'reject'
  retry?: WriteBehindRetryOptions
  /** Flush and close on SIGTERM and SIGINT before the process exits. @default true */
  flushOnSignals?: boolean
  /**
   * Records each write before acknowledging it and replays unpersisted writes when the writer
   * starts, so a crash (kill -9) loses nothing acknowledged. See `RedisJournal`.
   */
  journal?: WriteJournal<T>
}

export interface WriteBehindStats {
  /** Distinct keys waiting now. */
  queued: number
  /** Writes persisted so far. */
  persisted: number
  /** Batch attempts that failed and were retried. */
  retried: number
  /** Writes given up after every retry; they are kept in `failedWrites()` and emitted as `failed`. */
  failed: number
  /** Writes persisted directly because the queue was full. */
  writtenThrough: number
  /** Writes recovered from the journal at start. */
  replayed: number
}

export interface WriteBehindEvents<T> {
  persisted: [batch: ReadonlyArray<PendingWrite<T>>]
  retry: [error: unknown, attempt: number]
  failed: [batch: ReadonlyArray<PendingWrite<T>>, error: unknown]
}

/**
 * Write-behind: the cache is updated at once and readers see the new value; persistence follows
 * in batches, coalesced per key, with retries. The queue is bounded; `flush()` and `close()` drain
 * it, and SIGTERM/SIGINT flush it before exit. Nothing acknowledged is dropped silently: writes that
 * fail every retry are counted, emitted as `failed` and kept in `failedWrites()`.
 *
 * @example
 * ```ts
 * import { Cache, WriteBehind } from '@cachewire/core'
 * const cache = new Cache()
 * const writer = new WriteBehind(cache, { persist: (batch) => db.saveMany(batch), batchSize: 50 })
 * await writer.write('user:1', { name: 'Ada' }) // cached now, persisted soon
 * await writer.close() // everything acknowledged is persisted
 * ```
 */
export class WriteBehind<T> extends EventEmitter<WriteBehindEvents<T>> {
  readonly #cache: Cache
  readonly #persist: WriteBehindOptions<T>['persist']
  readonly #setOptions: SetOptions
  readonly #batchSize: number
  readonly #maxQueue: number
  readonly #onFull: 'write-through' | 'reject'
  readonly #attempts: number
  readonly #baseDelayMs: number
  readonly #maxDelayMs: number
  readonly #queue = new Map<string, QueuedWrite<T>>()
  readonly #journal: WriteJournal<T> | undefined
  readonly #ready: Promise<number>
  readonly #failedWrites: PendingWrite<T>[] = []
  readonly #timer: NodeJS.Timeout
  readonly #stats = { persisted: 0, retried: 0, failed: 0, writtenThrough: 0, replayed: 0 }
  #version = 0
  #flushing: Promise<void> = Promise.resolve()
  #closed = false
  #removeSignalHandlers: () => void = () => {}

  constructor(cache: Cache, options: WriteBehindOptions<T>) {
    super()
    if (typeof options?.persist !== 'function') throw new InvalidOptionError('persist', 'a function (batch) => Promise<void>', options?.persist)
    this.#cache = cache
    this.#persist = options.persist
    this.#setOptions = { ttl: options.ttl, tags: options.tags }
    this.#batchSize = positiveInteger(options.batchSize ?? 100, 'batchSize')
    this.#maxQueue = positiveInteger(options.maxQueue ?? 10_000, 'maxQueue')
    const flushIntervalMs = positiveInteger(options.flushIntervalMs ?? 1000, 'flushIntervalMs')
    const onFull = options.onFull ?? 'write-through'
    if (onFull !== 'write-through' && onFull !== 'reject') throw new InvalidOptionError('onFull', "'write-through' or 'reject'", onFull)
    this.#onFull = onFull
    this.#attempts = positiveInteger(options.retry?.attempts ?? 5, 'retry.attempts')
    this.#baseDelayMs = positiveInteger(options.retry?.baseDelayMs ?? 100, 'retry.baseDelayMs')
    this.#maxDelayMs = positiveInteger(options.retry?.maxDelayMs ?? 10_000, 'retry.maxDelayMs')
    this.#journal = options.journal
    this.#ready = this.#recover()
    this.#timer = setInterval(() => void this.#kick(), flushIntervalMs)
    this.#timer.unref()
    if (options.flushOnSignals !== false) this.#installSignalHandlers()
  }

  /** Resolves once writes left in the journal by an earlier process are queued again (their count). */
  ready(): Promise<number> {
    return this.#ready
  }

  /**
   * Updates the cache and queues `value` for persistence. Resolves once the write is acknowledged:
   * queued (or, when the queue is full under 'write-through', persisted). Rejects with
   * `QueueFullError` when full under 'reject', and with `ClosedError` after `close()`.
   */
  async write(key: string, value: T): Promise<void> {
    if (this.#closed) throw new ClosedError('write-behind')
    await this.#ready
    if (!this.#queue.has(key) && this.#queue.size >= this.#maxQueue) {
      if (this.#onFull === 'reject') throw new QueueFullError(this.#maxQueue)
      // Persist in order behind whatever is in flight, so this write cannot be overtaken by an older one.
      const write = { key, value, version: ++this.#version }
      await this.#flushing
      await this.#persist([write])
      this.#stats.writtenThrough++
      await this.#cache.set(key, value, this.#setOptions)
      return
    }
    // Journal first: if it cannot record the write, the write is refused and nothing changed.
    const journalId = this.#journal === undefined ? undefined : await this.#journal.append(key, value)
    await this.#cache.set(key, value, this.#setOptions)
    this.#enqueue(key, value, journalId)
    if (this.#queue.size >= this.#batchSize) void this.#kick()
  }

  #enqueue(key: string, value: T, journalId: string | undefined): void {
    const previous = this.#queue.get(key)
    const journalIds = previous?.journalIds ?? []
    if (journalId !== undefined) journalIds.push(journalId)
    // Delete first so the key moves to the back: batches go oldest-first by latest write.
    this.#queue.delete(key)
    this.#queue.set(key, { key, value, version: ++this.#version, journalIds })
  }

  async #recover(): Promise<number> {
    if (this.#journal === undefined) return 0
    const entries = await this.#journal.replay()
    for (const entry of entries) this.#enqueue(entry.key, entry.value, entry.id)
    this.#stats.replayed = entries.length
    if (entries.length > 0) void this.#kick()
    return entries.length
  }

  /** Persists everything queued now (and whatever arrives while it runs). */
  async flush(): Promise<void> {
    await this.#ready.catch(() => 0)
    while (this.#queue.size > 0) await this.#kick()
    await this.#flushing
  }

  /** Stops taking writes, persists everything queued, and removes the signal handlers. */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    this.#removeSignalHandlers()
    await this.flush()
  }

  stats(): WriteBehindStats {
    return { queued: this.#queue.size, ...this.#stats }
  }

  /** Writes that failed every retry, oldest first. Re-`write` them once the source is healthy. */
  failedWrites(): ReadonlyArray<PendingWrite<T>> {
    return this.#failedWrites
  }

  /** Chains one batch after the current one; batches never overlap, so per-key order holds. */
  #kick(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushBatch())
    return this.#flushing
  }

  async #flushBatch(): Promise<void> {
    if (this.#queue.size === 0) return
    let batch: QueuedWrite<T>[] = []
    for (const write of this.#queue.values()) {
      batch.push(write)
      if (batch.length >= this.#batchSize) break
    }
    for (const write of batch) this.#queue.delete(write.key)
    let lastError: unknown
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      try {
        await this.#persist(batch.map(({ key, value, version }) => ({ key, value, version })))
        this.#stats.persisted += batch.length
        this.emit('persisted', batch)
        if (this.#journal !== undefined) {
          await this.#journal.acknowledge(batch.flatMap((write) => write.journalIds)).catch((error: unknown) => {
            // Unacknowledged entries are replayed and persisted again at the next start: a repeat, never a loss.
            process.emitWarning(`cachewire write-behind: journal acknowledge failed: ${String(error)}`)
          })
        }
        return
      } catch (error) {
        lastError = error
        if (attempt === this.#attempts) break
        this.#stats.retried++
        this.emit('retry', error, attempt)
        await sleep(Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1)))
        // A newer write of a key is queued behind us and will persist next; don't retry the older value.
        // Its journal ids travel with the newer write, so they are acknowledged when it lands.
        batch = batch.filter((write) => {
          const newer = this.#queue.get(write.key)
          if (newer !== undefined) newer.journalIds.unshift(...write.journalIds)
          return newer === undefined
        })
        if (batch.length === 0) return
      }
    }
    this.#stats.failed += batch.length
    this.#failedWrites.push(...batch)
    if (this.listenerCount('failed') > 0) this.emit('failed', batch, lastError)
    else process.emitWarning(`cachewire write-behind: ${batch.length} write(s) failed after ${this.#attempts} attempts; see failedWrites()`)
  }

  #installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      this.#removeSignalHandlers()
      const exitAfter = (): void => {
        // Other listeners own the shutdown; with none left, end the way the signal would have.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
      }
      this.close().then(exitAfter, exitAfter)
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    this.#removeSignalHandlers = () => {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
    }
  }
}

function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new InvalidOptionError(option, 'a positive integer', value)
  return value
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
