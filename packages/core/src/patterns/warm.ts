import { EventEmitter } from 'node:events'
import { InvalidArgumentError, InvalidOptionError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../known-options.js'
import type { SetOptions } from '../types.js'

/** One key to warm: how to load its value, and optionally its own TTL and tags. */
export interface WarmEntry {
  key: string
  load: () => unknown
  ttl?: Duration | undefined
  tags?: readonly string[] | undefined
}

export interface WarmOptions {
  /** Loads running at once. @default 4 */
  concurrency?: number
  /** Most loads started per second, spread evenly (so the source sees no burst). @default unbounded */
  perSecond?: number
  /** Load and write keys that are already cached too (a scheduled refresh); else they are skipped. @default false */
  overwrite?: boolean
  /** TTL of entries that carry none. @default the cache's `defaultTtl` */
  ttl?: Duration
  /** Stops starting new loads when aborted; the run ends once the loads under way have. */
  signal?: AbortSignal
}

/** Where a run stands; `total` is known for arrays (and other sized collections), else undefined. */
export interface WarmProgress {
  done: number
  loaded: number
  skipped: number
  failed: number
  total: number | undefined
  elapsedMs: number
}

export interface WarmEvents {
  /** After each entry (loaded, skipped or failed). */
  progress: [progress: WarmProgress]
  /** An entry whose load threw, or whose write the store refused. */
  failed: [failure: { key: string; error: unknown }]
}

/** What warming needs of a cache (a `Cache`, or a namespace view of one). */
export interface WarmTarget {
  has(key: string): Promise<boolean>
  set(key: string, value: unknown, options?: SetOptions): Promise<boolean>
}

const WARM_OPTIONS = ['concurrency', 'perSecond', 'overwrite', 'ttl', 'signal'] as const

/**
 * One warming run. Listen for `progress` (and `failed`), and await `result`.
 *
 * @example
 * ```ts
 * const run = cache.warm(productIds.map((id) => ({ key: `product:${id}`, load: () => db.products.find(id) })), { concurrency: 8, perSecond: 200 })
 * run.on('progress', ({ done, total }) => process.stdout.write(`\r${done}/${total}`))
 * const { loaded, failed } = await run.result
 * ```
 */
export class WarmRun extends EventEmitter<WarmEvents> {
  /** Resolves when every entry is done (or the signal stopped the run); never rejects. */
  readonly result: Promise<WarmProgress>

  constructor(start: (run: WarmRun) => Promise<WarmProgress>) {
    super()
    // Started on the next turn, so listeners added right after `warm()` see every event.
    this.result = Promise.resolve().then(() => start(this))
  }
}

/**
 * Loads `entries` into `cache`: `concurrency` loads at a time, at most `perSecond` started a
 * second, keys already cached skipped unless `overwrite`. A load that throws is counted and
 * emitted as `failed`, never thrown: warming is best effort. Run it at start (`await run.result`
 * before taking traffic, or not), or on a schedule with `warmEvery`.
 *
 * @example
 * ```ts
 * import { Cache, warm } from '@cachewire/core'
 * const cache = new Cache()
 * const run = warm(cache, [{ key: 'config', load: () => loadConfig() }], { concurrency: 2 })
 * await run.result // { done: 1, loaded: 1, skipped: 0, failed: 0, total: 1, elapsedMs: 3 }
 * ```
 */
export function warm(
  cache: WarmTarget,
  entries: Iterable<WarmEntry> | AsyncIterable<WarmEntry>,
  options: WarmOptions = {}
): WarmRun {
  const settings = resolveWarmOptions(options)
  if (
    entries === null ||
    typeof entries !== 'object' ||
    (!(Symbol.iterator in entries) && !(Symbol.asyncIterator in entries))
  )
    throw new InvalidArgumentError(
      'entries',
      'an iterable (or async iterable) of { key, load }',
      entries
    )
  return new WarmRun((run) => runWarm(cache, entries, settings, run))
}

interface WarmSettings {
  concurrency: number
  intervalMs: number
  overwrite: boolean
  ttl: Duration | undefined
  signal: AbortSignal | undefined
}

function resolveWarmOptions(options: WarmOptions): WarmSettings {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an options object', options)
  rejectUnknownOptions(options, WARM_OPTIONS, '')
  const concurrency = options.concurrency ?? 4
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw new InvalidOptionError('concurrency', 'a positive integer', concurrency)
  const perSecond = options.perSecond
  if (
    perSecond !== undefined &&
    (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0)
  )
    throw new InvalidOptionError('perSecond', 'a positive number of loads per second', perSecond)
  if (options.ttl !== undefined) parseDuration(options.ttl, 'ttl')
  if (options.overwrite !== undefined && typeof options.overwrite !== 'boolean')
    throw new InvalidOptionError('overwrite', 'true or false', options.overwrite)
  return {
    concurrency,
    intervalMs: perSecond === undefined ? 0 : 1000 / perSecond,
    overwrite: options.overwrite ?? false,
    ttl: options.ttl,
    signal: options.signal,
  }
}

async function runWarm(
  cache: WarmTarget,
  entries: Iterable<WarmEntry> | AsyncIterable<WarmEntry>,
  settings: WarmSettings,
  run: WarmRun
): Promise<WarmProgress> {
  const started = performance.now()
  const size =
    (entries as { length?: unknown; size?: unknown }).length ?? (entries as { size?: unknown }).size
  const progress: WarmProgress = {
    done: 0,
    loaded: 0,
    skipped: 0,
    failed: 0,
    total: typeof size === 'number' ? size : undefined,
    elapsedMs: 0,
  }
  const iterator =
    Symbol.asyncIterator in entries
      ? entries[Symbol.asyncIterator]()
      : (entries as Iterable<WarmEntry>)[Symbol.iterator]()
  let nextStart = performance.now()
  let exhausted = false
  // Entries are pulled one at a time by whichever worker is free: an async source is never read ahead.
  const next = async (): Promise<WarmEntry | undefined> => {
    if (exhausted || settings.signal?.aborted === true) return undefined
    const item = await iterator.next()
    if (item.done === true) {
      exhausted = true
      return undefined
    }
    return item.value
  }
  const pace = async (): Promise<void> => {
    if (settings.intervalMs === 0) return
    const now = performance.now()
    const at = Math.max(now, nextStart)
    nextStart = at + settings.intervalMs
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now))
  }
  const worker = async (): Promise<void> => {
    for (let entry = await next(); entry !== undefined; entry = await next()) {
      const outcome = await warmOne(cache, entry, settings, pace)
      progress[outcome.kind]++
      progress.done++
      progress.elapsedMs = performance.now() - started
      if (outcome.kind === 'failed') run.emit('failed', { key: entry.key, error: outcome.error })
      run.emit('progress', { ...progress })
    }
  }
  await Promise.all(Array.from({ length: settings.concurrency }, worker))
  progress.elapsedMs = performance.now() - started
  return progress
}

type Outcome = { kind: 'loaded' | 'skipped' } | { kind: 'failed'; error: unknown }

async function warmOne(
  cache: WarmTarget,
  entry: WarmEntry,
  settings: WarmSettings,
  pace: () => Promise<void>
): Promise<Outcome> {
  try {
    if (typeof entry?.load !== 'function')
      throw new InvalidArgumentError('entry.load', 'a function', entry?.load)
    if (!settings.overwrite && (await cache.has(entry.key))) return { kind: 'skipped' }
    await pace()
    const value = await entry.load()
    if (value === undefined) return { kind: 'skipped' }
    const stored = await cache.set(entry.key, value, {
      ttl: entry.ttl ?? settings.ttl,
      tags: entry.tags,
    })
    return stored
      ? { kind: 'loaded' }
      : { kind: 'failed', error: new Error(`the store did not take ${JSON.stringify(entry.key)}`) }
  } catch (error) {
    return { kind: 'failed', error }
  }
}

export interface WarmSchedule {
  /** Stops scheduling; resolves once the run under way (if any) has ended. */
  stop(): Promise<void>
  /** The run under way, if any. */
  readonly current: WarmRun | undefined
}

/**
 * Warms on a schedule: a run now (unless `immediately: false`), then one `every` after the last
 * ended (runs never overlap). `source` is asked for entries each time, so it can pick the keys
 * hot right now. `onRun` gets each run, to watch its progress; `onError` gets a failure of
 * `source` itself (a warning otherwise).
 *
 * @example
 * ```ts
 * import { warmEvery } from '@cachewire/core'
 * const schedule = warmEvery(cache, () => topProducts().map((p) => ({ key: `product:${p.id}`, load: () => p })), { every: '10m', overwrite: true })
 * await schedule.stop() // at shutdown
 * ```
 */
export function warmEvery(
  cache: WarmTarget,
  source: () =>
    | Iterable<WarmEntry>
    | AsyncIterable<WarmEntry>
    | Promise<Iterable<WarmEntry> | AsyncIterable<WarmEntry>>,
  options: WarmOptions & {
    every: Duration
    immediately?: boolean
    onRun?: (run: WarmRun) => void
    onError?: (error: unknown) => void
  }
): WarmSchedule {
  if (typeof source !== 'function')
    throw new InvalidArgumentError('source', 'a function returning entries', source)
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an options object with every', options)
  const { every, immediately = true, onRun, onError, ...warmOptions } = options
  const everyMs = parseDuration(every, 'every', { kind: 'timeout' })
  resolveWarmOptions(warmOptions)
  if (onRun !== undefined && typeof onRun !== 'function')
    throw new InvalidOptionError('onRun', 'a function', onRun)
  if (onError !== undefined && typeof onError !== 'function')
    throw new InvalidOptionError('onError', 'a function', onError)
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let current: WarmRun | undefined
  let running: Promise<unknown> = Promise.resolve()
  const tick = (): void => {
    if (stopped) return
    running = Promise.resolve()
      .then(source)
      .then((entries) => {
        if (stopped) return undefined
        current = warm(cache, entries, warmOptions)
        onRun?.(current)
        return current.result
      })
      // The source itself failed (entries that fail are counted by their run): said, never swallowed.
      .catch((error: unknown) =>
        onError !== undefined
          ? onError(error)
          : process.emitWarning(`cachewire warmEvery: the source failed: ${String(error)}`)
      )
      .finally(() => {
        current = undefined
        if (!stopped) timer = setTimeout(tick, everyMs).unref()
      })
  }
  if (immediately) tick()
  else timer = setTimeout(tick, everyMs).unref()
  return {
    get current() {
      return current
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
