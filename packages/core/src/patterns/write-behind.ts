import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { ClosedError, QueueFullError } from '../errors.js'
import type { CacheLike as Cache } from '../cache-like.js'
import {
  resolveWriteBehindOptions,
  type PendingWrite,
  type ResolvedWriteBehindOptions,
  type WriteBehindOptions,
} from './write-behind-options.js'
import { installShutdownSignals } from './write-behind-signals.js'
import { claimSpills, removeSpill, writeSpill } from './write-behind-spill.js'
import { kPendingWrites } from './pending-writes.js'

export type {
  PendingWrite,
  PersistContext,
  WriteJournal,
  WriteBehindOptions,
  WriteBehindRetryOptions,
} from './write-behind-options.js'

/** A replayed spill file, removed once every write read from it is persisted. */
interface SpillReceipt {
  path: string
  remaining: number
}

interface QueuedWrite<T> extends PendingWrite<T> {
  /** Journal ids of this write and of the older writes of the key it replaced. */
  journalIds: string[]
  /** Spill files this write (or an older write of its key it replaced) was replayed from. */
  spills: SpillReceipt[]
  /** The cache write at `write()` failed: write the value to the cache again once persisted. */
  recache?: boolean
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
  /** Writes recovered from the journal and from spill files at start. */
  replayed: number
}

/** How `close()` ended. */
export interface WriteBehindCloseResult {
  /** Every acknowledged write was persisted. */
  clean: boolean
  /** Writes not persisted by the deadline (or failed every retry), all of them accounted for below. */
  unpersisted: number
  /** Of those, written to `spillFile` (replayed by the next writer on the same path). */
  spilled: number
  /** Of those, left in the journal (replayed by the next writer on the same journal). */
  journaled: number
  /** Of those, neither spilled nor journaled: lost, and said so on stderr. */
  lost: number
  /** The spill file written, if any. */
  spillFile?: string
}

export interface WriteBehindEvents<T> {
  persisted: [batch: ReadonlyArray<PendingWrite<T>>]
  retry: [error: unknown, attempt: number]
  failed: [batch: ReadonlyArray<PendingWrite<T>>, error: unknown]
  spilled: [result: WriteBehindCloseResult]
}

/**
 * Write-behind: the cache is updated at once and readers see the new value; persistence follows
 * in batches, coalesced per key, with retries. The queue is bounded; `flush()` and `close()` drain
 * it, and SIGTERM/SIGINT flush it before exit. Nothing acknowledged is dropped silently: writes that
 * fail every retry are counted, emitted as `failed` and kept in `failedWrites()`; what is left at the
 * shutdown deadline is spilled to a file, counted on stderr and replayed by the next start.
 *
 * @example
 * ```ts
 * import { Cache, WriteBehind } from '@cachewire/core'
 * const cache = new Cache()
 * const db = new Map<string, unknown>()
 * const writer = new WriteBehind(cache, {
 *   persist: async (batch) => { for (const { key, value } of batch) db.set(key, value) },
 *   batchSize: 50,
 *   flushInterval: '1s',
 * })
 * await writer.write('user:1', { name: 'Ada' }) // cached now, persisted soon
 * await writer.close() // everything acknowledged is persisted (or spilled at the deadline)
 * ```
 */
export class WriteBehind<T> extends EventEmitter<WriteBehindEvents<T>> {
  readonly #cache: Cache
  readonly #options: ResolvedWriteBehindOptions<T>
  readonly #queue = new Map<string, QueuedWrite<T>>()
  readonly #ready: Promise<number>
  readonly #failedWrites: QueuedWrite<T>[] = []
  readonly #timer: NodeJS.Timeout
  readonly #stats = { persisted: 0, retried: 0, failed: 0, writtenThrough: 0, replayed: 0 }
  /** Last version handed out (hybrid logical clock, in microseconds). */
  #version = 0
  #flushing: Promise<void> = Promise.resolve()
  /** The batch `persist` is working on (or waiting to retry); spilled with the queue at the deadline. */
  #inFlight: QueuedWrite<T>[] = []
  #closed = false
  /** Set at the shutdown deadline: no more batches start; what is left belongs to the spill. */
  #abandoned = false
  #closing: Promise<WriteBehindCloseResult> | undefined
  #removeSignalHandlers: () => void = () => {}

  constructor(cache: Cache, options: WriteBehindOptions<T>) {
    super()
    this.#options = resolveWriteBehindOptions(options)
    this.#cache = cache
    this.#ready = this.#recover()
    this.#timer = setInterval(() => void this.#kick(), this.#options.flushIntervalMs)
    this.#timer.unref()
    if (this.#options.flushOnSignals) {
      this.#removeSignalHandlers = installShutdownSignals(
        () => this.close(),
        () =>
          `${this.#queue.size + this.#inFlight.length} write(s) pending, deadline ${this.#options.shutdownTimeoutMs} ms`
      )
    }
  }

  /** Resolves once writes left by an earlier process (journal and spill files) are queued again (their count). */
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
    if (this.#closed) throw new ClosedError('write-behind')
    const version = this.#nextVersion()
    if (!this.#queue.has(key) && this.#queue.size >= this.#options.maxQueue) {
      if (this.#options.onFull === 'reject') throw new QueueFullError(this.#options.maxQueue)
      // Persist in order behind whatever is in flight, so this write cannot be overtaken by an older one.
      await this.#flushing
      await this.#options.persist([{ key, value, version }], { batchId: randomUUID(), attempt: 1 })
      this.#stats.writtenThrough++
      await this.#cache.set(key, value, this.#options.setOptions)
      return
    }
    // Journal first: if it cannot record the write, the write is refused and nothing changed.
    const journalId =
      this.#options.journal === undefined
        ? undefined
        : await this.#options.journal.append(key, value, version)
    // Until persisted, readers of this cache view get the new value whatever the store holds (see PendingWrites).
    this.#cache[kPendingWrites]?.hold(key, value, version)
    const cached = await this.#cache.set(key, value, this.#options.setOptions)
    this.#enqueue({
      key,
      value,
      version,
      journalIds: journalId === undefined ? [] : [journalId],
      spills: [],
      recache: !cached,
    })
    if (this.#queue.size >= this.#options.batchSize) void this.#kick()
  }

  /** `max(clock() * 1000, last + 1)`: ordered like wall time, never repeating, never going back. */
  #nextVersion(): number {
    this.#version = Math.max(Math.floor(this.#options.clock() * 1000), this.#version + 1)
    return this.#version
  }

  /** Queues a write; of two writes of one key, the higher version stays and inherits the other's receipts. */
  #enqueue(write: QueuedWrite<T>): void {
    const previous = this.#queue.get(write.key)
    if (previous !== undefined && previous.version > write.version) {
      previous.journalIds.push(...write.journalIds)
      previous.spills.push(...write.spills)
      return
    }
    if (previous !== undefined) {
      write.journalIds.unshift(...previous.journalIds)
      write.spills.unshift(...previous.spills)
    }
    // Delete first so the key moves to the back: batches go oldest-first by latest write.
    this.#queue.delete(write.key)
    this.#queue.set(write.key, write)
  }

  async #recover(): Promise<number> {
    let count = 0
    const journal = this.#options.journal
    if (journal !== undefined) {
      for (const entry of await journal.replay()) {
        const version = entry.version ?? this.#nextVersion()
        this.#version = Math.max(this.#version, version)
        this.#enqueue({
          key: entry.key,
          value: entry.value,
          version,
          journalIds: [entry.id],
          spills: [],
        })
        this.#shadow(entry.key, entry.value, version)
        count++
      }
    }
    if (this.#options.spillFile !== undefined) {
      for (const spill of await claimSpills<T>(this.#options.spillFile)) {
        const receipt: SpillReceipt = { path: spill.path, remaining: spill.writes.length }
        if (receipt.remaining === 0) await removeSpill(spill.path)
        for (const write of spill.writes) {
          this.#version = Math.max(this.#version, write.version)
          this.#enqueue({ ...write, journalIds: [], spills: [receipt] })
          this.#shadow(write.key, write.value, write.version)
          count++
        }
      }
    }
    this.#stats.replayed = count
    if (count > 0) void this.#kick()
    return count
  }

  /** Shadows a replayed write like a new one; a value the cache cannot encode is persisted unshadowed. */
  #shadow(key: string, value: T, version: number): void {
    try {
      this.#cache[kPendingWrites]?.hold(key, value, version)
    } catch {
      // The spill and journal hold JSON, which every serializer of the cache takes; nothing to do otherwise.
    }
  }

  /** Persists everything queued now (and whatever arrives while it runs). */
  async flush(): Promise<void> {
    await this.#ready.catch(() => 0)
    while (this.#queue.size > 0 && !this.#abandoned) await this.#kick()
    await this.#flushing
  }

  /**
   * Stops taking writes and persists everything queued, waiting at most `shutdownTimeout`. What is
   * still unpersisted then (the queue, the batch in flight, writes that failed every retry) is
   * spilled to `spillFile` — or left in the journal, when there is one — and counted on stderr.
   * Called again (or by a signal), it returns the same promise: there is only ever one flush.
   */
  close(): Promise<WriteBehindCloseResult> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<WriteBehindCloseResult> {
    this.#closed = true
    clearInterval(this.#timer)
    let deadline: NodeJS.Timeout | undefined
    // A referenced timer: a hung persist holding no handle must not let the process slip away early.
    const timedOut = new Promise<true>(
      (resolve) => (deadline = setTimeout(() => resolve(true), this.#options.shutdownTimeoutMs))
    )
    const finished = this.flush().then(
      () => false as const,
      () => false as const
    )
    const late = await Promise.race([finished, timedOut])
    clearTimeout(deadline)
    if (late) this.#abandoned = true
    const leftovers = this.#leftovers()
    const result =
      leftovers.length === 0
        ? { clean: true, unpersisted: 0, spilled: 0, journaled: 0, lost: 0 }
        : await this.#spill(leftovers, late)
    // This writer is gone: its pending values no longer shadow the cache (the spill or journal keeps them).
    for (const write of leftovers) this.#cache[kPendingWrites]?.release(write.key, write.version)
    this.#removeSignalHandlers()
    return result
  }

  /** What is acknowledged and not persisted: failed writes, the batch in flight, the queue; one per key, newest version. */
  #leftovers(): QueuedWrite<T>[] {
    const byKey = new Map<string, QueuedWrite<T>>()
    for (const write of [...this.#failedWrites, ...this.#inFlight, ...this.#queue.values()]) {
      const seen = byKey.get(write.key)
      if (seen === undefined || seen.version < write.version) byKey.set(write.key, write)
    }
    return [...byKey.values()]
  }

  async #spill(leftovers: QueuedWrite<T>[], late: boolean): Promise<WriteBehindCloseResult> {
    const why = late
      ? `the shutdown deadline (${this.#options.shutdownTimeoutMs} ms) passed`
      : 'writes failed every retry'
    const result: WriteBehindCloseResult = {
      clean: false,
      unpersisted: leftovers.length,
      spilled: 0,
      journaled: 0,
      lost: 0,
    }
    // With a journal they are already durable there, and the next start replays them: spilling them too would replay twice.
    const journaled = leftovers.filter((write) => write.journalIds.length > 0)
    const rest = leftovers.filter((write) => write.journalIds.length === 0)
    result.journaled = journaled.length
    let detail = journaled.length > 0 ? `${journaled.length} left in the journal` : ''
    if (rest.length > 0 && this.#options.spillFile !== undefined) {
      try {
        const spilled = await writeSpill(this.#options.spillFile, rest)
        result.spilled = spilled.written
        result.lost = spilled.unwritable
        result.spillFile = spilled.path
        if (spilled.unwritable === 0) {
          // Every unpersisted write replayed from an older spill file now has its key (at that version
          // or newer) in the new file or the journal: the older files would only replay it twice.
          const older = new Set(
            [...this.#failedWrites, ...this.#inFlight, ...this.#queue.values()].flatMap((write) =>
              write.spills.map((receipt) => receipt.path)
            )
          )
          for (const path of older) await this.#removeSpill(path)
        }
        detail += `${detail === '' ? '' : ', '}${spilled.written} spilled to ${spilled.path}`
        if (spilled.unwritable > 0)
          detail += `, ${spilled.unwritable} LOST (values JSON cannot hold)`
      } catch (error) {
        result.lost = rest.length
        detail += `${detail === '' ? '' : ', '}${rest.length} LOST: the spill file could not be written (${String(error)})`
      }
    } else if (rest.length > 0) {
      result.lost = rest.length
      detail += `${detail === '' ? '' : ', '}${rest.length} LOST (spillFile is off)`
    }
    process.stderr.write(
      `cachewire write-behind: ${why} with ${leftovers.length} write(s) unpersisted: ${detail}; replayed on next start\n`
    )
    this.emit('spilled', result)
    return result
  }

  stats(): WriteBehindStats {
    return { queued: this.#queue.size, ...this.#stats }
  }

  /** Writes that failed every retry, oldest first. Re-`write` them once the source is healthy. */
  failedWrites(): ReadonlyArray<PendingWrite<T>> {
    return this.#failedWrites.map(({ key, value, version }) => ({ key, value, version }))
  }

  /** Chains one batch after the current one; batches never overlap, so per-key order holds. */
  #kick(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushBatch())
    return this.#flushing
  }

  async #flushBatch(): Promise<void> {
    if (this.#queue.size === 0 || this.#abandoned) return
    let batch: QueuedWrite<T>[] = []
    for (const write of this.#queue.values()) {
      batch.push(write)
      if (batch.length >= this.#options.batchSize) break
    }
    for (const write of batch) this.#queue.delete(write.key)
    this.#inFlight = batch
    const batchId = randomUUID()
    let lastError: unknown
    const { attempts, baseDelayMs, maxDelayMs } = this.#options
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.#options.persist(
          batch.map(({ key, value, version }) => ({ key, value, version })),
          { batchId, attempt }
        )
        if (this.#abandoned) return // spilled already; its next start replays what the sink may now hold twice, by version
        this.#inFlight = []
        this.#stats.persisted += batch.length
        this.emit('persisted', batch)
        await this.#settle(batch)
        return
      } catch (error) {
        lastError = error
        if (attempt === attempts || this.#abandoned) break
        this.#stats.retried++
        this.emit('retry', error, attempt)
        await sleep(Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)))
        // A newer write of a key is queued behind us and will persist next; don't retry the older value.
        // Its receipts travel with the newer write, so they are settled when it lands.
        batch = batch.filter((write) => {
          const newer = this.#queue.get(write.key)
          if (newer !== undefined) {
            newer.journalIds.unshift(...write.journalIds)
            newer.spills.unshift(...write.spills)
          }
          return newer === undefined
        })
        this.#inFlight = batch
        if (batch.length === 0 || this.#abandoned) return
      }
    }
    if (this.#abandoned) return
    this.#inFlight = []
    this.#stats.failed += batch.length
    this.#failedWrites.push(...batch)
    if (this.listenerCount('failed') > 0) this.emit('failed', batch, lastError)
    else
      process.emitWarning(
        `cachewire write-behind: ${batch.length} write(s) failed after ${attempts} attempts; see failedWrites()`
      )
  }

  /**
   * After a batch is persisted: end the shadow of its writes (writing to the cache again those whose
   * first cache write failed, so a reader elsewhere that re-cached the old row is overwritten),
   * acknowledge its journal entries and remove spill files now fully persisted.
   */
  async #settle(batch: QueuedWrite<T>[]): Promise<void> {
    for (const write of batch) {
      this.#cache[kPendingWrites]?.release(write.key, write.version)
      if (write.recache === true)
        await this.#cache.set(write.key, write.value, this.#options.setOptions).catch(() => false)
    }
    const journal = this.#options.journal
    if (journal !== undefined) {
      await journal
        .acknowledge(batch.flatMap((write) => write.journalIds))
        .catch((error: unknown) => {
          // Unacknowledged entries are replayed and persisted again at the next start: a repeat, never a loss.
          process.emitWarning(
            `cachewire write-behind: journal acknowledge failed: ${String(error)}`
          )
        })
    }
    if (this.#failedWrites.length > 0) {
      // A failed write whose key has now persisted a newer version is settled too.
      const persisted = new Map(batch.map((write) => [write.key, write.version]))
      for (let i = this.#failedWrites.length - 1; i >= 0; i--) {
        const failed = this.#failedWrites[i] as QueuedWrite<T>
        if ((persisted.get(failed.key) ?? -1) >= failed.version) this.#failedWrites.splice(i, 1)
      }
    }
    for (const write of batch) {
      for (const receipt of write.spills) {
        if (--receipt.remaining === 0) await this.#removeSpill(receipt.path)
      }
    }
  }

  async #removeSpill(path: string): Promise<void> {
    await removeSpill(path).catch((error: unknown) => {
      process.emitWarning(
        `cachewire write-behind: could not remove replayed spill file ${path}: ${String(error)}`
      )
    })
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
