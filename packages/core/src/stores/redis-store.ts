import { Redis } from 'ioredis'
import { InvalidOptionError, StoreError } from '../errors.js'
import { escapeGlob } from '../glob.js'
import { withDeadline } from '../resilience/deadline.js'
import type { StoreHealth, StoreObserver } from '../resilience/store-health.js'
import type {
  BoundedSetResult,
  Store,
  StoreInvalidationOptions,
  StoreMeasure,
  StoreSetOptions,
  StoreSize,
  WindowHitOptions,
  WindowState,
} from '../types.js'
import { hitRedisWindow, measureRedis, redisTtl, scanAndUnlink } from './redis-data.js'
import type { RedisDriver } from './redis-driver.js'
import { IoredisDriver } from './redis-driver-ioredis.js'
import { RedisRunner, type RunFlags } from './redis-runner.js'
import { SCRIPTS } from './redis-scripts.js'
import { RedisTagIndex } from './redis-tags.js'
import {
  CACHE_CLIENT_DEFAULTS,
  createDriver,
  normaliseOptions,
  resolveRedisStoreOptions,
  type RedisStoreOptions,
  type ResolvedRedisStoreOptions,
} from './redis-store-options.js'
import type { RedisClient } from './redis-client.js'

export type { NodeRedisClient, NodeRedisCluster, RedisClient } from './redis-client.js'
export type { RedisBreakerOptions, RedisStoreOptions } from './redis-store-options.js'
export { CACHE_CLIENT_DEFAULTS, CACHE_CLUSTER_DEFAULTS } from './redis-store-options.js'

/** Each command of bulk work (a tag's index, a SCAN page, a batch of UNLINKs) gets at least this long. */
const BULK_COMMAND_TIMEOUT_MS = 1000

/**
 * A store on Redis through ioredis or node-redis (`redis` v4/v5), standalone or Cluster. Every key has a TTL; values are one
 * binary string; tags are sorted sets that expire with their entries; every command touches one
 * key, so nothing raises CROSSSLOT on a Cluster; pattern deletes SCAN every master, never KEYS.
 *
 * Reads and writes go on connections of their own (the client given for reads, a duplicate the
 * store opens and closes for writes): Redis serves a connection's commands in order, so a write
 * held up (`CLIENT PAUSE WRITE`) would hold every read sent after it. Each node (each Cluster
 * master) has a circuit breaker per direction, and a bounded queue in front of a bounded number
 * of commands on the wire: a command's deadline starts when it goes on the wire, so it measures
 * Redis, not the line in front of it.
 *
 * @example
 * ```ts
 * import { Cache } from '@cachewire/core'
 * import { RedisStore } from '@cachewire/core/redis'
 *
 * const cache = new Cache({ store: new RedisStore({ url: 'redis://127.0.0.1:6379', timeout: '50ms', breaker: { breakDuration: '200ms' } }) })
 * ```
 */
export class RedisStore implements Store {
  readonly name = 'redis'
  /** The client reads go on (the one you passed, or the one built from `url`). */
  readonly client: RedisClient
  readonly prefix: string
  /** `client`, through the driver of its library. */
  readonly #reads: RedisDriver
  /** The store's own duplicate of `client`, for writes. */
  readonly #writes: RedisDriver
  readonly #ownsClient: boolean
  /** Listeners the store put on a client it does not own, removed at close. */
  readonly #unlisten: Array<() => void> = []
  readonly #options: ResolvedRedisStoreOptions
  readonly #runner: RedisRunner
  readonly #entryPrefix: string
  readonly #tags: RedisTagIndex
  readonly #lockPrefix: string
  readonly #windowPrefix: string
  #measured: StoreMeasure | undefined
  #measuring: Promise<StoreMeasure> | undefined
  /** The last connection error of a connection the store owns, until it is ready again: what `ping` reports. */
  #connectionError: Error | undefined

  constructor(options: RedisStoreOptions | RedisClient | string) {
    const given = normaliseOptions(options)
    this.#options = resolveRedisStoreOptions(given)
    this.prefix = this.#options.prefix
    this.#entryPrefix = `${this.prefix}k:`
    this.#lockPrefix = `${this.prefix}l:`
    this.#windowPrefix = `${this.prefix}w:`
    // Own connections report their errors (without a listener, ioredis prints every reconnect
    // failure, and node-redis throws: an 'error' event nobody listens to ends the process).
    const watch = (driver: RedisDriver): void => {
      driver.on('error', (error) => {
        if (error === undefined) return
        this.#connectionError = error
        given.onConnectionError?.(error)
        this.#runner.fault(new StoreError('connection', error))
      })
      driver.on('ready', () => {
        this.#connectionError = undefined
      })
    }
    if (given.client !== undefined) {
      this.#reads = createDriver(given.client)
      this.#ownsClient = false
    } else if (typeof given.url === 'string' && /^rediss?:\/\//.test(given.url)) {
      this.#reads = new IoredisDriver(
        new Redis(given.url, { ...CACHE_CLIENT_DEFAULTS, ...given.redisOptions })
      )
      watch(this.#reads)
      if (given.redisOptions?.enableOfflineQueue === undefined) this.#reads.failFastOnceReady()
      this.#ownsClient = true
    } else {
      throw new InvalidOptionError('url', 'a redis:// URL (or pass options.client)', given.url)
    }
    this.client = this.#reads.client as RedisClient
    this.#writes = this.#reads.duplicate()
    watch(this.#writes)
    if (!this.#ownsClient) this.#followLifetime()
    if (this.#ownsClient && given.redisOptions?.enableOfflineQueue === undefined)
      this.#writes.failFastOnceReady()
    this.#reads.ensureSlotsRefresh()
    this.#writes.ensureSlotsRefresh()
    const { timeoutMs, maxInFlight, maxQueue, queueTimeoutMs, breaker } = this.#options
    this.#runner = new RedisRunner(
      { read: this.#reads, write: this.#writes },
      { timeoutMs, maxInFlight, maxQueue, queueTimeoutMs, breaker, prefix: this.prefix }
    )
    this.#tags = new RedisTagIndex({
      runner: this.#runner,
      reads: this.#reads,
      writes: this.#writes,
      tagPrefix: `${this.prefix}tag:`,
      entryPrefix: this.#entryPrefix,
      commandTimeoutMs: () => this.#bulkCommandTimeoutMs,
    })
  }

  get(key: string): Promise<Uint8Array | undefined> {
    const fullKey = this.#entryPrefix + key
    return this.#runner.run('read', fullKey, 'get', () => this.#getBuffer(fullKey))
  }

  async getWithTtl(key: string): Promise<{ value: Uint8Array; ttlMs: number } | undefined> {
    const fullKey = this.#entryPrefix + key
    // Two commands on one key: auto-pipelining sends them in one round trip, on one node.
    const [value, ttlMs] = await this.#runner.run('read', fullKey, 'get', () =>
      Promise.all([
        this.#getBuffer(fullKey),
        this.#reads.command(fullKey, ['PTTL', fullKey]).then(Number),
      ])
    )
    if (value === undefined) return undefined
    return { value, ttlMs: ttlMs > 0 ? ttlMs : 1 }
  }

  async has(key: string): Promise<boolean> {
    const fullKey = this.#entryPrefix + key
    return (
      (await this.#runner.run('read', fullKey, 'has', () =>
        this.#reads.command(fullKey, ['EXISTS', fullKey])
      )) === 1
    )
  }

  async acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const fullKey = this.#lockPrefix + key
    const result = await this.#runner.run('write', fullKey, 'acquireLock', () =>
      this.#writes.command(fullKey, [
        'SET',
        fullKey,
        token,
        'PX',
        String(Math.max(1, Math.ceil(ttlMs))),
        'NX',
      ])
    )
    return result === 'OK'
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    const fullKey = this.#lockPrefix + key
    return (
      (await this.#runner.run('write', fullKey, 'releaseLock', () =>
        this.#writes.script(SCRIPTS.cachewireUnlock, fullKey, [token])
      )) === 1
    )
  }

  async set(key: string, value: Uint8Array, options: StoreSetOptions): Promise<void> {
    const fullKey = this.#entryPrefix + key
    const ttlMs = Math.max(1, Math.ceil(options.ttlMs))
    const tags = options.tags ?? []
    // Tag records first: an entry that exists is always reachable from its tags.
    await this.#tags.file(key, tags, ttlMs)
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    await this.#runner.run(
      'write',
      fullKey,
      'set',
      () => this.#writes.command(fullKey, ['SET', fullKey, bytes, 'PX', String(ttlMs)]),
      guarded(options)
    )
    // And once more after: an invalidation that read the first generation and removed the old
    // entry before this one landed would otherwise release the record of the new entry.
    await this.#tags.file(key, tags, ttlMs)
  }

  async delete(key: string, options?: StoreInvalidationOptions): Promise<boolean> {
    const fullKey = this.#entryPrefix + key
    return (
      Number(
        await this.#runner.run(
          'write',
          fullKey,
          'delete',
          () => this.#writes.command(fullKey, ['UNLINK', fullKey]),
          guarded(options)
        )
      ) > 0
    )
  }

  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    const fullKey = this.#entryPrefix + key
    return Number(
      await this.#runner.run('write', fullKey, 'increment', () =>
        this.#writes.script(SCRIPTS.cachewireIncrement, fullKey, [
          String(by),
          String(Math.max(1, Math.ceil(ttlMs))),
        ])
      )
    )
  }

  async addToBoundedSet(
    key: string,
    member: string,
    max: number,
    ttlMs: number
  ): Promise<BoundedSetResult> {
    const fullKey = this.#entryPrefix + key
    const ttl = Math.max(1, Math.ceil(ttlMs))
    const reply = await this.#runner.run('write', fullKey, 'addToBoundedSet', () =>
      this.#writes.script(SCRIPTS.cachewireBoundedAdd, fullKey, [member, String(max), String(ttl)])
    )
    const [added, isMember, size] = reply as [number, number, number]
    return { added: added === 1, member: isMember === 1, size }
  }

  async invalidateTags(
    tags: readonly string[],
    options?: StoreInvalidationOptions
  ): Promise<number> {
    return (await this.invalidateTagsReturningKeys(tags, options)).length
  }

  async countTagged(tags: readonly string[]): Promise<number> {
    return withDeadline(this.#tags.count(tags), this.#options.bulkTimeoutMs, 'countTagged')
  }

  /** See {@link RedisTagIndex.invalidate}: nothing leaves an index before its entries are gone. */
  async invalidateTagsReturningKeys(
    tags: readonly string[],
    options?: StoreInvalidationOptions
  ): Promise<readonly string[]> {
    return withDeadline(
      this.#tags.invalidate(tags, guarded(options)),
      this.#options.bulkTimeoutMs,
      'invalidateTags'
    )
  }

  async deletePattern(pattern: string, options?: StoreInvalidationOptions): Promise<number> {
    return withDeadline(
      scanAndUnlink(
        this.#runner,
        escapeGlob(this.#entryPrefix) + pattern,
        {
          ...guarded(options),
          timeoutMs: this.#bulkCommandTimeoutMs,
        },
        this.#options.scanCount
      ),
      this.#options.bulkTimeoutMs,
      'deletePattern'
    )
  }

  async clear(options?: StoreInvalidationOptions): Promise<void> {
    await withDeadline(
      scanAndUnlink(
        this.#runner,
        escapeGlob(this.prefix) + '*',
        {
          ...guarded(options),
          timeoutMs: this.#bulkCommandTimeoutMs,
        },
        this.#options.scanCount
      ),
      this.#options.bulkTimeoutMs,
      'clear'
    )
  }

  /** PING, on every master of a Cluster: rejects with Redis' own words (`WRONGPASS …`, `NOAUTH …`) or the connection's. */
  async ping(): Promise<void> {
    // Not connected: a ping would wait in the client's queue and fail with "max retries"; say why instead.
    if (this.#connectionError !== undefined && !this.#reads.isReady) throw this.#connectionError
    try {
      await Promise.all(this.#reads.masters().map(({ connection }) => connection.send(['PING'])))
    } catch (error) {
      // A ping queued before the connection failed ends in "max retries": the connection's error says why.
      throw this.#connectionError ?? error
    }
  }

  async ttl(key: string): Promise<number | undefined> {
    const fullKey = this.#entryPrefix + key
    return this.#runner.run('read', fullKey, 'ttl', () => redisTtl(this.#reads, fullKey))
  }

  /** SET NX / SET XX, filed under its tags as `set` is (before, and again once written). */
  async setIf(
    key: string,
    value: Uint8Array,
    options: StoreSetOptions,
    condition: 'absent' | 'present'
  ): Promise<boolean> {
    const fullKey = this.#entryPrefix + key
    const ttlMs = Math.max(1, Math.ceil(options.ttlMs))
    const tags = options.tags ?? []
    // A refused write leaves a tag naming a key it does not cover: over-invalidation (safe), never under-.
    await this.#tags.file(key, tags, ttlMs)
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    const name = condition === 'absent' ? 'add' : 'replace'
    const result = await this.#runner.run('write', fullKey, name, () =>
      this.#writes.command(fullKey, [
        'SET',
        fullKey,
        bytes,
        'PX',
        String(ttlMs),
        condition === 'absent' ? 'NX' : 'XX',
      ])
    )
    if (result !== 'OK') return false
    await this.#tags.file(key, tags, ttlMs)
    return true
  }

  async hitWindow(key: string, options: WindowHitOptions): Promise<WindowState> {
    const fullKey = this.#windowPrefix + key
    return this.#runner.run('write', fullKey, 'hitWindow', () =>
      hitRedisWindow(this.#writes, fullKey, options)
    )
  }

  /** Entries under this store's prefix and their bytes, from the server (see `measureRedis`); bulk work, under `bulkTimeout`. */
  async measure(): Promise<StoreMeasure> {
    this.#measuring ??= withDeadline(
      measureRedis(
        this.#reads,
        this.#entryPrefix,
        escapeGlob(this.#entryPrefix) + '*',
        this.#options.scanCount
      ),
      this.#options.bulkTimeoutMs,
      'measure'
    )
      .then((measured) => (this.#measured = measured))
      .finally(() => (this.#measuring = undefined))
    return this.#measuring
  }

  /**
   * The last `measure()` (undefined before the first), so `cache.stats()` stays synchronous; a
   * measurement older than 10 s is refreshed in the background.
   */
  size(): StoreSize | undefined {
    if (this.#measured === undefined || Date.now() - this.#measured.measuredAt > 10_000)
      void this.measure().catch(() => undefined)
    return this.#measured === undefined
      ? undefined
      : { entries: this.#measured.entries, bytes: this.#measured.bytes }
  }

  /** Breakers per node and direction, commands on the wire and queued, and calls dropped by reason. */
  health(): StoreHealth {
    return this.#runner.health()
  }

  /** Tells `observer` of background faults (probes, lost connections) and of breakers closing again. */
  observe(observer: StoreObserver): () => void {
    return this.#runner.observe(observer)
  }

  async close(): Promise<void> {
    this.#runner.close()
    for (const unlisten of this.#unlisten.splice(0)) unlisten()
    const owned = this.#ownsClient ? [this.#reads, this.#writes] : [this.#writes]
    await Promise.all(owned.map((driver) => driver.quit()))
  }

  /** GET, the value as bytes, `undefined` when absent. */
  #getBuffer(fullKey: string): Promise<Buffer | undefined> {
    return this.#reads.getBytes(fullKey).then(replyBytes)
  }

  /**
   * The write connection lives as long as the client it duplicates: an app that quits its own
   * client (and never closes the store) must not be kept alive by ours, and one that connects it
   * again gets writes again.
   */
  #followLifetime(): void {
    this.#unlisten.push(
      this.#reads.on('end', () => this.#writes.disconnect()),
      this.#reads.on('ready', () => {
        if (this.#writes.ended) this.#writes.reopen()
      })
    )
  }

  get #bulkCommandTimeoutMs(): number {
    return Math.min(
      this.#options.bulkTimeoutMs,
      Math.max(this.#options.timeoutMs, BULK_COMMAND_TIMEOUT_MS)
    )
  }
}

/** An invalidation retried by the cache's queue goes even while its breaker is open. */
function guarded(options: StoreInvalidationOptions | undefined): RunFlags {
  return { guard: options?.retry !== true }
}

/** A GET reply as bytes: a client asked for buffers may still hand back a string. */
function replyBytes(reply: unknown): Buffer | undefined {
  return reply === null || reply === undefined
    ? undefined
    : Buffer.isBuffer(reply)
      ? reply
      : Buffer.from(reply as string)
}
