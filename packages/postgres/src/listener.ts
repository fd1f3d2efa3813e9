import { EventEmitter } from 'node:events'
import {
  InvalidOptionError,
  parseDuration,
  rejectUnknownOptions,
  type Cache,
  type Duration,
} from '@cachewire/core'
import pg from 'pg'
import type { ClientConfig, Notification } from 'pg'
import { changesTables, ensureChangesTables, type ChangesTables } from './changes-table.js'
import { prune } from './prune.js'
import { parseChannel, parseTableName } from './sql.js'
import { DEFAULT_CHANGES_TABLE, DEFAULT_CHANNEL, lockedSchemaChange } from './triggers.js'

export interface InvalidationListenerOptions {
  /** Where to connect: a connection string or `pg` client options. The listener opens one connection of its own. */
  connection: string | ClientConfig
  /** The cache to invalidate. On a `TieredStore` with a `RedisBus`, every process's L1 follows. */
  cache: Cache
  /** As given to `installInvalidationTriggers`. @default 'cachewire_invalidate' */
  channel?: string
  /** As given to `installInvalidationTriggers`. @default 'cachewire_changes' */
  changesTable?: string
  /**
   * Names this listener's shared cursor: the last change applied, kept in the database so that a
   * fleet that was entirely down catches up on start. Listeners of one cache share it. @default 'default'
   */
  name?: string
  reconnect?: {
    /** First wait after a lost connection; doubles up to `maxDelay`. @default '100ms' */
    baseDelay?: Duration
    /** @default '5s' */
    maxDelay?: Duration
  }
  /** How often the connection is checked (a catch-up read, which also finds a half-open socket). @default '5s' */
  checkInterval?: Duration
  /** Changes older than this are pruned; `false` leaves pruning to someone else. @default { retention: '1d', maxRows: 100_000 } */
  prune?: { retention?: Duration; maxRows?: number; interval?: Duration } | false
  /**
   * Called when changes were pruned before this listener read them (it was away longer than the
   * retention): it cannot know what to invalidate. @default clears the cache
   */
  onMissedChanges?: (info: { lastApplied: string; prunedThrough: string }) => void | Promise<void>
  /** Connection and query errors; the listener reconnects by itself. */
  onError?: (error: unknown) => void
}

/** One change, as a listener applied it. */
export interface AppliedChange {
  id: string
  op: string
  keys: readonly string[]
  tags: readonly string[]
  /** `notify` when it came with the NOTIFY, `catch-up` when read from the changes table. */
  source: 'notify' | 'catch-up'
}

export interface InvalidationListenerEvents {
  invalidated: [change: AppliedChange]
  connected: []
  disconnected: [error: unknown]
}

export type ListenerState = 'idle' | 'connecting' | 'listening' | 'closed'

interface ChangeRow {
  id: string
  op: string
  keys: string[]
  tags: string[]
}

const KNOWN = [
  'connection',
  'cache',
  'channel',
  'changesTable',
  'name',
  'reconnect',
  'checkInterval',
  'prune',
  'onMissedChanges',
  'onError',
] as const
/** Ids of changes applied lately, so one change read twice (notify and catch-up) is applied once. */
const REMEMBERED = 10_000
const PAGE = 1000

/**
 * Turns database changes into cache invalidations. It holds one connection per process: `LISTEN`s
 * on the channel the triggers notify; after every (re)connect it first reads the changes table for
 * what it missed while away (and re-reads transactions that were still open at its last read,
 * which commit out of id order); it reconnects with backoff; and it prunes the changes table.
 * Every change becomes `cache.delete(key)` and `cache.invalidateTags(tags)`; on a `TieredStore`
 * with a `RedisBus` that reaches every process's L1, even one whose own listener is down.
 *
 * @example
 * ```ts
 * import { Cache } from '@cachewire/core'
 * import { InvalidationListener } from '@cachewire/postgres'
 *
 * const cache = new Cache()
 * const listener = new InvalidationListener({ connection: process.env.DATABASE_URL!, cache })
 * listener.on('invalidated', (change) => console.log('invalidated', change.keys, change.tags))
 * await listener.start() // connected, caught up
 * await listener.close()
 * ```
 */
export class InvalidationListener extends EventEmitter<InvalidationListenerEvents> {
  readonly #config: ClientConfig
  readonly #cache: Cache
  readonly #channel: string
  readonly #tables: ChangesTables
  readonly #name: string
  readonly #baseDelayMs: number
  readonly #maxDelayMs: number
  readonly #checkMs: number
  readonly #prune: { retentionMs: number; maxRows: number; intervalMs: number } | undefined
  readonly #onMissed: NonNullable<InvalidationListenerOptions['onMissedChanges']>
  readonly #onError: (error: unknown) => void
  readonly #applied = new Set<string>()
  #client: pg.Client | undefined
  #state: ListenerState = 'idle'
  /** Highest change id applied (as text: bigint). */
  #lastId: string | undefined
  /** Oldest transaction still open at the last catch-up: its rows may appear below `#lastId`. */
  #xmin: string | undefined
  #attempt = 0
  #timer: NodeJS.Timeout | undefined
  #lastPrune = 0
  #connected: Promise<void> | undefined
  #resolveConnected: () => void = () => {}

  constructor(options: InvalidationListenerOptions) {
    super()
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionError(
        'connection',
        'a connection string or pg client options',
        undefined
      )
    rejectUnknownOptions(options, KNOWN, '')
    const connection = options.connection
    if (typeof connection !== 'string' && (typeof connection !== 'object' || connection === null)) {
      throw new InvalidOptionError(
        'connection',
        'a connection string or pg client options',
        connection
      )
    }
    if (typeof options.cache?.invalidateTags !== 'function')
      throw new InvalidOptionError('cache', 'a Cache', options.cache)
    this.#config = {
      ...(typeof connection === 'string' ? { connectionString: connection } : connection),
      keepAlive: true,
      application_name: 'cachewire-listener',
    }
    this.#cache = options.cache
    this.#channel = parseChannel(options.channel ?? DEFAULT_CHANNEL, 'channel')
    this.#tables = changesTables(
      parseTableName(options.changesTable ?? DEFAULT_CHANGES_TABLE, 'changesTable')
    )
    this.#name = typeof options.name === 'string' && options.name !== '' ? options.name : 'default'
    const reconnect = options.reconnect ?? {}
    rejectUnknownOptions(reconnect, ['baseDelay', 'maxDelay'], 'reconnect')
    this.#baseDelayMs = parseDuration(reconnect.baseDelay ?? '100ms', 'reconnect.baseDelay', {
      kind: 'timeout',
    })
    this.#maxDelayMs = parseDuration(reconnect.maxDelay ?? '5s', 'reconnect.maxDelay', {
      kind: 'timeout',
    })
    this.#checkMs = parseDuration(options.checkInterval ?? '5s', 'checkInterval', {
      kind: 'timeout',
    })
    if (options.prune !== false) {
      const pruneOptions = options.prune ?? {}
      rejectUnknownOptions(pruneOptions, ['retention', 'maxRows', 'interval'], 'prune')
      const maxRows = pruneOptions.maxRows ?? 100_000
      if (!Number.isSafeInteger(maxRows) || maxRows <= 0)
        throw new InvalidOptionError('prune.maxRows', 'a positive integer', maxRows)
      this.#prune = {
        retentionMs: parseDuration(pruneOptions.retention ?? '1d', 'prune.retention'),
        maxRows,
        intervalMs: parseDuration(pruneOptions.interval ?? '1m', 'prune.interval', {
          kind: 'timeout',
        }),
      }
    }
    this.#onMissed = options.onMissedChanges ?? (async () => void (await this.#cache.clear()))
    this.#onError = options.onError ?? (() => {})
  }

  get state(): ListenerState {
    return this.#state
  }

  /** Connects (retrying with backoff until it can) and resolves once listening and caught up. */
  start(): Promise<void> {
    if (this.#connected !== undefined) return this.#connected
    this.#connected = new Promise((resolve) => (this.#resolveConnected = resolve))
    void this.#connect()
    return this.#connected
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.#state = 'closed'
    clearTimeout(this.#timer)
    const client = this.#client
    this.#client = undefined
    await client?.end().catch(() => {})
  }

  async #connect(): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'connecting'
    const client = new pg.Client(this.#config)
    this.#client = client
    let lost = false
    const onLost = (error: unknown): void => {
      if (lost || this.#client !== client) return
      lost = true
      this.#client = undefined
      clearTimeout(this.#timer)
      this.emit('disconnected', error)
      if (error !== undefined) this.#onError(error)
      client.end().catch(() => {})
      this.#scheduleReconnect()
    }
    client.on('error', onLost)
    client.on('end', () => onLost(new Error('connection ended')))
    client.on('notification', (message) => void this.#onNotification(message, client))
    try {
      await client.connect()
      await lockedSchemaChange(client, (locked) => ensureChangesTables(locked, this.#tables))
      await client.query(`LISTEN "${this.#channel}"`)
      if (this.#lastId === undefined) await this.#loadCursor(client)
      await this.#catchUp(client)
      if (this.#client !== client) return
      this.#state = 'listening'
      this.#attempt = 0
      this.emit('connected')
      this.#resolveConnected()
      this.#scheduleCheck(client)
    } catch (error) {
      onLost(error)
    }
  }

  #scheduleReconnect(): void {
    if (this.#state === 'closed') return
    this.#state = 'connecting'
    const delay = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** this.#attempt++)
    // ±20 % jitter, so a fleet that lost its database together does not reconnect in lockstep.
    this.#timer = setTimeout(
      () => void this.#connect(),
      Math.round(delay * (0.8 + Math.random() * 0.4))
    )
    this.#timer.unref()
  }

  #scheduleCheck(client: pg.Client): void {
    this.#timer = setTimeout(() => {
      void (async () => {
        try {
          await withTimeout(this.#catchUp(client), this.#checkMs, 'listener check')
          if (this.#prune !== undefined && Date.now() - this.#lastPrune >= this.#prune.intervalMs) {
            this.#lastPrune = Date.now()
            await prune(client, this.#tables, this.#prune)
          }
          if (this.#client === client) this.#scheduleCheck(client)
        } catch (error) {
          // A check that fails or hangs means the connection cannot be trusted: start over.
          if (this.#client === client) client.emit('error', error)
        }
      })()
    }, this.#checkMs)
    this.#timer.unref()
  }

  /** Where the fleet left off, so changes made while every process was down still invalidate. */
  async #loadCursor(client: pg.Client): Promise<void> {
    const saved = await client.query<{ last_id: string; xmin: string | null }>(
      `SELECT last_id::text, snapshot_xmin::text AS xmin FROM ${this.#tables.state.sql} WHERE name = $1`,
      [`cursor:${this.#name}`]
    )
    const row = saved.rows[0]
    if (row !== undefined) {
      this.#lastId = row.last_id
      this.#xmin = row.xmin ?? undefined
      return
    }
    // First start ever: nothing was cached from changes before now.
    const now = await client.query<{ last_id: string; xmin: string }>(
      `SELECT coalesce(max(id), 0)::text AS last_id, pg_snapshot_xmin(pg_current_snapshot())::text AS xmin FROM ${this.#tables.changes.sql}`
    )
    this.#lastId = now.rows[0]?.last_id ?? '0'
    this.#xmin = now.rows[0]?.xmin
  }

  /** Reads every change after the last one applied, plus those of transactions open at the previous read. */
  async #catchUp(client: pg.Client): Promise<void> {
    const lastId = this.#lastId ?? '0'
    // Taken before the read: every transaction older than this has finished, so its rows are visible now.
    const snapshot = await client.query<{ xmin: string; pruned: string | null }>(
      `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
              (SELECT last_id::text FROM ${this.#tables.state.sql} WHERE name = 'pruned') AS pruned`
    )
    const xmin = snapshot.rows[0]?.xmin as string
    const pruned = snapshot.rows[0]?.pruned ?? null
    if (pruned !== null && BigInt(pruned) > BigInt(lastId)) {
      await this.#onMissed({ lastApplied: lastId, prunedThrough: pruned })
      this.#lastId = pruned
    }
    let after = '0'
    for (;;) {
      const page = await client.query<ChangeRow>(
        `SELECT id::text, op, keys, tags FROM ${this.#tables.changes.sql}
          WHERE id > $3 AND (id > $1 OR ($2::xid8 IS NOT NULL AND xid >= $2::xid8))
          ORDER BY id LIMIT ${PAGE}`,
        [lastId, this.#xmin ?? null, after]
      )
      for (const row of page.rows) await this.#apply(row, 'catch-up')
      if (page.rows.length < PAGE) break
      after = (page.rows[page.rows.length - 1] as ChangeRow).id
    }
    this.#xmin = xmin
    await client.query(
      `INSERT INTO ${this.#tables.state.sql} (name, last_id, snapshot_xmin) VALUES ($1, $2, $3::xid8)
         ON CONFLICT (name) DO UPDATE SET last_id = EXCLUDED.last_id, snapshot_xmin = EXCLUDED.snapshot_xmin
         WHERE ${this.#tables.state.sql}.last_id <= EXCLUDED.last_id`,
      [`cursor:${this.#name}`, this.#lastId ?? '0', xmin]
    )
  }

  async #onNotification(message: Notification, client: pg.Client): Promise<void> {
    if (message.channel !== this.#channel || message.payload === undefined) return
    try {
      const payload = JSON.parse(message.payload) as {
        id?: unknown
        op?: unknown
        keys?: unknown
        tags?: unknown
      }
      const id =
        typeof payload.id === 'number' || typeof payload.id === 'string'
          ? String(payload.id)
          : undefined
      if (id === undefined) return
      if (isStrings(payload.keys) && isStrings(payload.tags)) {
        await this.#apply(
          {
            id,
            op: typeof payload.op === 'string' ? payload.op : 'UNKNOWN',
            keys: payload.keys,
            tags: payload.tags,
          },
          'notify'
        )
        return
      }
      // Too big for a NOTIFY payload: read it from the changes table.
      const row = await client.query<ChangeRow>(
        `SELECT id::text, op, keys, tags FROM ${this.#tables.changes.sql} WHERE id = $1`,
        [id]
      )
      if (row.rows[0] !== undefined) await this.#apply(row.rows[0], 'notify')
    } catch (error) {
      this.#onError(error)
    }
  }

  async #apply(change: ChangeRow, source: AppliedChange['source']): Promise<void> {
    if (this.#applied.has(change.id)) return
    this.#applied.add(change.id)
    if (this.#applied.size > REMEMBERED)
      this.#applied.delete(this.#applied.values().next().value as string)
    if (this.#lastId === undefined || BigInt(change.id) > BigInt(this.#lastId))
      this.#lastId = change.id
    if (change.op === 'TRUNCATE' && change.keys.length === 0 && change.tags.length === 0) {
      await this.#cache.clear() // no table-wide tag to name what went: everything may be stale
    } else {
      const work: Promise<unknown>[] = []
      if (change.tags.length > 0) work.push(this.#cache.invalidateTags(change.tags))
      for (const key of change.keys) work.push(this.#cache.delete(key))
      await Promise.all(work)
    }
    this.emit('invalidated', {
      id: change.id,
      op: change.op,
      keys: change.keys,
      tags: change.tags,
      source,
    })
  }
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
