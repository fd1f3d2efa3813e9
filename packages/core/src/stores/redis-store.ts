import { Redis, type Cluster, type ClusterOptions, type RedisOptions } from 'ioredis'
import { InvalidOptionError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { escapeGlob } from '../glob.js'
import { rejectUnknownOptions } from '../known-options.js'
import { withDeadline } from '../resilience/deadline.js'
import type { Store, StoreMeasure, StoreSetOptions, StoreSize, WindowHitOptions, WindowState } from '../types.js'
import { hitRedisWindow, measureRedis, redisTtl, WINDOW_SCRIPT } from './redis-data.js'
import type { RedisClient } from './redis-client.js'

export type { RedisClient } from './redis-client.js'

export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` you own (the store never quits it). */
  client?: RedisClient
  /** A `redis://` or `rediss://` URL; the store creates, tunes and owns the client. */
  url?: string
  /** Extra ioredis options for a client built from `url`. Yours win over the cache-oriented defaults. */
  redisOptions?: RedisOptions
  /** Prepended to every key, so several apps or tests can share one Redis. @default 'cachewire:' */
  prefix?: string
  /** Deadline of each request-path command (get, set, delete, has, increment, locks): a later answer is a miss. `'50ms'`, or milliseconds. @default '50ms' */
  timeout?: Duration
  /** Deadline of bulk work (tag and pattern invalidation, counting, clear). @default '30s' */
  bulkTimeout?: Duration
  /** Keys asked of SCAN per call during pattern deletes. @default 500 */
  scanCount?: number
  /** Connection errors of a client the store owns (ioredis emits them while reconnecting). @default ignored: commands fail open */
  onConnectionError?: (error: Error) => void
}

const REDIS_STORE_OPTIONS = ['client', 'url', 'redisOptions', 'prefix', 'timeout', 'bulkTimeout', 'scanCount', 'onConnectionError'] as const
const RENAMED_REDIS_STORE_OPTIONS = { deadlineMs: 'timeout', bulkDeadlineMs: 'bulkTimeout' } as const

/** Lua run on one key only, so every script is safe on a Cluster (no CROSSSLOT). */
const SCRIPTS = {
  // Add a member to a tag set and make the set outlive its longest member.
  cachewireTagAdd: {
    numberOfKeys: 1,
    lua: `redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`,
  },
  // Read and delete a tag set atomically, so a member added meanwhile lands in a fresh set.
  cachewireTagTake: {
    numberOfKeys: 1,
    lua: `local members = redis.call('SMEMBERS', KEYS[1])
redis.call('UNLINK', KEYS[1])
return members`,
  },
  // Delete a lock only if the caller still owns it (its token), never someone else's.
  cachewireUnlock: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  },
  // A rate-limit window hit (see redis-data.ts).
  cachewireWindow: WINDOW_SCRIPT,
  // INCRBY that gives a new counter its TTL and leaves an existing counter's TTL alone.
  cachewireIncrement: {
    numberOfKeys: 1,
    lua: `local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value`,
  },
} as const

interface ScriptCommands {
  cachewireTagAdd(key: string, member: string, ttlMs: number): Promise<number>
  cachewireTagTake(key: string): Promise<string[]>
  cachewireIncrement(key: string, by: number, ttlMs: number): Promise<number>
  cachewireUnlock(key: string, token: string): Promise<number>
}

/**
 * A store on Redis through ioredis, standalone or Cluster. Every key has a TTL; values are one
 * binary string; tags are Redis sets that expire with their entries; every command touches one
 * key, so nothing raises CROSSSLOT on a Cluster; pattern deletes SCAN every master, never KEYS.
 *
 * @example
 * ```ts
 * import { Cache } from '@cachewire/core'
 * import { RedisStore } from '@cachewire/core/redis'
 *
 * const cache = new Cache({ store: new RedisStore('redis://127.0.0.1:6379') })
 * ```
 */
export class RedisStore implements Store {
  readonly name = 'redis'
  readonly client: RedisClient
  readonly prefix: string
  readonly #ownsClient: boolean
  readonly #deadlineMs: number
  readonly #bulkDeadlineMs: number
  readonly #scanCount: number
  readonly #entryPrefix: string
  readonly #tagPrefix: string
  readonly #lockPrefix: string
  readonly #windowPrefix: string
  #measured: StoreMeasure | undefined
  #measuring: Promise<StoreMeasure> | undefined
  /** The last connection error of a client the store owns, until it is ready again: what `ping` reports. */
  #connectionError: Error | undefined

  constructor(options: RedisStoreOptions | RedisClient | string) {
    const resolved = normaliseOptions(options)
    this.prefix = resolved.prefix ?? 'cachewire:'
    if (typeof this.prefix !== 'string') throw new InvalidOptionError('prefix', 'a string', this.prefix)
    this.#deadlineMs = parseDuration(resolved.timeout ?? '50ms', 'timeout', { kind: 'timeout' })
    this.#bulkDeadlineMs = parseDuration(resolved.bulkTimeout ?? '30s', 'bulkTimeout', { kind: 'timeout' })
    this.#scanCount = positiveInteger(resolved.scanCount ?? 500, 'scanCount')
    if (resolved.onConnectionError !== undefined && typeof resolved.onConnectionError !== 'function') {
      throw new InvalidOptionError('onConnectionError', 'a function', resolved.onConnectionError)
    }
    this.#entryPrefix = `${this.prefix}k:`
    this.#tagPrefix = `${this.prefix}t:`
    this.#lockPrefix = `${this.prefix}l:`
    this.#windowPrefix = `${this.prefix}w:`
    if (resolved.client !== undefined) {
      if (!isRedisClient(resolved.client)) throw new InvalidOptionError('client', 'an ioredis Redis or Cluster instance', resolved.client)
      this.client = resolved.client
      this.#ownsClient = false
    } else if (typeof resolved.url === 'string' && /^rediss?:\/\//.test(resolved.url)) {
      const client = new Redis(resolved.url, { ...CACHE_CLIENT_DEFAULTS, ...resolved.redisOptions })
      // Without a listener, ioredis prints every reconnect failure as an unhandled error.
      const onConnectionError = resolved.onConnectionError
      client.on('error', (error: Error) => {
        this.#connectionError = error
        onConnectionError?.(error)
      })
      client.on('ready', () => {
        this.#connectionError = undefined
      })
      if (resolved.redisOptions?.enableOfflineQueue === undefined) {
        // Queue commands only until the first connection: after that, a lost connection means
        // fail fast (a miss), not requests piling up behind a dead socket.
        client.once('ready', () => {
          client.options.enableOfflineQueue = false
        })
      }
      this.client = client
      this.#ownsClient = true
    } else {
      throw new InvalidOptionError('url', 'a redis:// URL (or pass options.client)', resolved.url)
    }
    for (const [name, script] of Object.entries(SCRIPTS)) {
      if (typeof (this.client as unknown as Record<string, unknown>)[name] !== 'function') this.client.defineCommand(name, script)
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = await withDeadline(this.client.getBuffer(this.#entryPrefix + key), this.#deadlineMs, 'get')
    return value ?? undefined
  }

  async getWithTtl(key: string): Promise<{ value: Uint8Array; ttlMs: number } | undefined> {
    const fullKey = this.#entryPrefix + key
    // Two commands on one key: auto-pipelining sends them in one round trip, on one node.
    const [value, ttlMs] = await withDeadline(Promise.all([this.client.getBuffer(fullKey), this.client.pttl(fullKey)]), this.#deadlineMs, 'get')
    if (value === null) return undefined
    return { value, ttlMs: ttlMs > 0 ? ttlMs : 1 }
  }

  async acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const result = await withDeadline(this.client.set(this.#lockPrefix + key, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'), this.#deadlineMs, 'acquireLock')
    return result === 'OK'
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    return (await withDeadline(this.#scripts.cachewireUnlock(this.#lockPrefix + key, token), this.#deadlineMs, 'releaseLock')) === 1
  }

  async set(key: string, value: Uint8Array, options: StoreSetOptions): Promise<void> {
    const fullKey = this.#entryPrefix + key
    const ttlMs = Math.max(1, Math.ceil(options.ttlMs))
    const work = async (): Promise<void> => {
      // Tag records first: an entry that exists is always reachable from its tags.
      if (options.tags !== undefined && options.tags.length > 0) {
        await Promise.all(options.tags.map((tag) => this.#scripts.cachewireTagAdd(this.#tagPrefix + tag, key, ttlMs)))
      }
      await this.client.set(fullKey, Buffer.from(value.buffer, value.byteOffset, value.byteLength), 'PX', ttlMs)
    }
    await withDeadline(work(), this.#deadlineMs, 'set')
  }

  async delete(key: string): Promise<boolean> {
    return (await withDeadline(this.client.unlink(this.#entryPrefix + key), this.#deadlineMs, 'delete')) > 0
  }

  async has(key: string): Promise<boolean> {
    return (await withDeadline(this.client.exists(this.#entryPrefix + key), this.#deadlineMs, 'has')) > 0
  }

  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    const value = this.#scripts.cachewireIncrement(this.#entryPrefix + key, by, Math.max(1, Math.ceil(ttlMs)))
    return Number(await withDeadline(value, this.#deadlineMs, 'increment'))
  }

  async invalidateTags(tags: readonly string[]): Promise<number> {
    return (await this.invalidateTagsReturningKeys(tags)).length
  }

  async countTagged(tags: readonly string[]): Promise<number> {
    const work = async (): Promise<number> => {
      const memberLists = await Promise.all(tags.map((tag) => this.client.smembers(this.#tagPrefix + tag)))
      const keys = [...new Set(memberLists.flat())]
      // One key per command, as in invalidateTags: a Cluster refuses multi-key EXISTS across slots.
      const counts = await Promise.all(keys.map((key) => this.client.exists(this.#entryPrefix + key)))
      return counts.filter((count) => count > 0).length
    }
    return withDeadline(work(), this.#bulkDeadlineMs, 'countTagged')
  }

  async invalidateTagsReturningKeys(tags: readonly string[]): Promise<readonly string[]> {
    const work = async (): Promise<string[]> => {
      const memberLists = await Promise.all(tags.map((tag) => this.#scripts.cachewireTagTake(this.#tagPrefix + tag)))
      const keys = [...new Set(memberLists.flat())]
      // One key per command: multi-key UNLINK would raise CROSSSLOT on a Cluster.
      const counts = await Promise.all(keys.map((key) => this.client.unlink(this.#entryPrefix + key)))
      return keys.filter((_, i) => (counts[i] as number) > 0)
    }
    return withDeadline(work(), this.#bulkDeadlineMs, 'invalidateTags')
  }

  async deletePattern(pattern: string): Promise<number> {
    return withDeadline(this.#scanAndUnlink(escapeGlob(this.#entryPrefix) + pattern), this.#bulkDeadlineMs, 'deletePattern')
  }

  async clear(): Promise<void> {
    await withDeadline(this.#scanAndUnlink(escapeGlob(this.prefix) + '*'), this.#bulkDeadlineMs, 'clear')
  }

  /** PING, on every master of a Cluster: rejects with Redis' own words (`WRONGPASS …`, `NOAUTH …`) or the connection's. */
  async ping(): Promise<void> {
    // Not connected: a ping would wait in ioredis' queue and fail with "max retries"; say why instead.
    if (this.#connectionError !== undefined && this.client.status !== 'ready') throw this.#connectionError
    const masters = isCluster(this.client) ? this.client.nodes('master') : []
    try {
      await Promise.all((masters.length > 0 ? masters : [this.client]).map((node) => node.ping()))
    } catch (error) {
      // A ping queued before the connection failed ends in "max retries": the connection's error says why.
      throw this.#connectionError ?? error
    }
  }

  async ttl(key: string): Promise<number | undefined> {
    return withDeadline(redisTtl(this.client, this.#entryPrefix + key), this.#deadlineMs, 'ttl')
  }

  /** SET NX / SET XX. Tag records first, as in `set`: if the write is refused, a tag names a key it does not cover, which over-invalidates (safe), never under-. */
  async setIf(key: string, value: Uint8Array, options: StoreSetOptions, condition: 'absent' | 'present'): Promise<boolean> {
    const ttlMs = Math.max(1, Math.ceil(options.ttlMs))
    const work = async (): Promise<boolean> => {
      if (options.tags !== undefined && options.tags.length > 0) {
        await Promise.all(options.tags.map((tag) => this.#scripts.cachewireTagAdd(this.#tagPrefix + tag, key, ttlMs)))
      }
      const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
      const fullKey = this.#entryPrefix + key
      const result = condition === 'absent' ? await this.client.set(fullKey, bytes, 'PX', ttlMs, 'NX') : await this.client.set(fullKey, bytes, 'PX', ttlMs, 'XX')
      return result === 'OK'
    }
    return withDeadline(work(), this.#deadlineMs, condition === 'absent' ? 'add' : 'replace')
  }

  async hitWindow(key: string, options: WindowHitOptions): Promise<WindowState> {
    return withDeadline(hitRedisWindow(this.client, this.#windowPrefix + key, options), this.#deadlineMs, 'hitWindow')
  }

  /** Entries under this store's prefix and their bytes, from the server (see `measureRedis`); bulk work, under `bulkTimeout`. */
  async measure(): Promise<StoreMeasure> {
    this.#measuring ??= withDeadline(measureRedis(this.client, this.#entryPrefix, escapeGlob(this.#entryPrefix) + '*', this.#scanCount), this.#bulkDeadlineMs, 'measure')
      .then((measured) => (this.#measured = measured))
      .finally(() => (this.#measuring = undefined))
    return this.#measuring
  }

  /**
   * The last `measure()` (undefined before the first), so `cache.stats()` stays synchronous; a
   * measurement older than 10 s is refreshed in the background.
   */
  size(): StoreSize | undefined {
    if (this.#measured === undefined || Date.now() - this.#measured.measuredAt > 10_000) void this.measure().catch(() => undefined)
    return this.#measured === undefined ? undefined : { entries: this.#measured.entries, bytes: this.#measured.bytes }
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.client.quit().catch(() => this.client.disconnect())
  }

  get #scripts(): ScriptCommands {
    return this.client as unknown as ScriptCommands
  }

  /** SCAN each master (a Cluster spreads keys over several) and UNLINK what matches, one key per command. */
  async #scanAndUnlink(match: string): Promise<number> {
    const nodes: Redis[] = isCluster(this.client) ? this.client.nodes('master') : [this.client]
    let removed = 0
    for (const node of nodes) {
      let cursor = '0'
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', this.#scanCount)
        cursor = next
        if (keys.length > 0) {
          const pipeline = node.pipeline()
          for (const key of keys) pipeline.unlink(key)
          const results = (await pipeline.exec()) ?? []
          for (const [error, count] of results) if (error === null && typeof count === 'number') removed += count
        }
      } while (cursor !== '0')
    }
    return removed
  }
}

/**
 * ioredis defaults suit a queue, not a cache: a request would wait through ~20 reconnect
 * retries when Redis is down. A cache should fail fast and fall back to the origin.
 */
export const CACHE_CLIENT_DEFAULTS: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  enableAutoPipelining: true,
  retryStrategy: (times) => Math.min(times * 100, 2000),
}

/**
 * Cluster options for a cache: fail fast per node like CACHE_CLIENT_DEFAULTS, and re-read the
 * slot map every 2 s so a failed-over master is noticed without waiting for a MOVED reply.
 *
 * @example
 * ```ts
 * import { Cluster } from 'ioredis'
 * import { RedisStore, CACHE_CLUSTER_DEFAULTS } from '@cachewire/core/redis'
 * const store = new RedisStore({ client: new Cluster(nodes, CACHE_CLUSTER_DEFAULTS) })
 * ```
 */
export const CACHE_CLUSTER_DEFAULTS: ClusterOptions = {
  enableAutoPipelining: true,
  slotsRefreshInterval: 2000,
  slotsRefreshTimeout: 1000,
  clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
  redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 2000 },
}

function normaliseOptions(options: RedisStoreOptions | RedisClient | string): RedisStoreOptions {
  if (typeof options === 'string') return { url: options }
  if (isRedisClient(options)) return { client: options }
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('', 'a Redis URL, an ioredis client or an options object', options)
  rejectUnknownOptions(options, REDIS_STORE_OPTIONS, '', RENAMED_REDIS_STORE_OPTIONS)
  return options
}

function isRedisClient(value: unknown): value is RedisClient {
  return typeof value === 'object' && value !== null && typeof (value as { getBuffer?: unknown }).getBuffer === 'function' && typeof (value as { isCluster?: unknown }).isCluster === 'boolean'
}

function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster
}

function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new InvalidOptionError(option, 'a positive integer', value)
  return value
}
