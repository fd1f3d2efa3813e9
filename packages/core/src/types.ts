import type { Duration } from './duration.js'
import type {
  BreakerStatus,
  DropCounts,
  StoreHealth,
  StoreObserver,
} from './resilience/store-health.js'
import type { CircuitState } from './resilience/circuit-breaker.js'
/**
 * The storage contract. A Store keeps opaque bytes under string keys, each with a TTL, and
 * knows which keys carry which tags. Everything above it (serialisation, namespaces, stats,
 * fail-open) lives in the `Cache` facade, so a store stays small.
 *
 * Every method may reject; the `Cache` turns a rejection into a miss plus an `error` event.
 */
export interface Store {
  /** A short name for logs and stats, e.g. `'memory'` or `'redis'`. */
  readonly name: string
  /** The stored bytes, or `undefined` when absent or expired. */
  get(key: string): Promise<Uint8Array | undefined>
  /** Stores bytes for `ttlMs` milliseconds (always > 0) and records the key under each tag. */
  set(key: string, value: Uint8Array, options: StoreSetOptions): Promise<void>
  /** Removes one key; resolves `true` when something was removed. */
  delete(key: string, options?: StoreInvalidationOptions): Promise<boolean>
  /** Whether a live value is stored under `key`, without reading it. */
  has(key: string): Promise<boolean>
  /**
   * Removes every key recorded under any of `tags`, and the tag records themselves.
   * Work is proportional to the number of keys under those tags, never to the whole store.
   * Resolves the number of keys removed.
   */
  invalidateTags(tags: readonly string[], options?: StoreInvalidationOptions): Promise<number>
  /**
   * Removes every key matching a glob (`*`, `?`, `[...]`, as Redis MATCH understands it).
   * Resolves the number of keys removed.
   */
  deletePattern(pattern: string, options?: StoreInvalidationOptions): Promise<number>
  /**
   * Atomically adds `by` to the integer stored under `key` (0 when absent) and resolves the new
   * value. The TTL is set when the key is created and left alone afterwards, like Redis INCRBY
   * on a key that already expires. Counters are stored as ASCII decimal bytes.
   */
  increment(key: string, by: number, ttlMs: number): Promise<number>
  /** Removes everything this store owns (for Redis: every key under its prefix). */
  clear(options?: StoreInvalidationOptions): Promise<void>
  /**
   * Reads without I/O, for hot paths. Resolves nothing asynchronously: `undefined` means "not
   * available synchronously"; whether that is a definite miss is said by `syncReads`.
   */
  getSync?(key: string): Uint8Array | undefined
  /**
   * `'complete'`: `getSync` sees everything the store holds (a memory store), so its `undefined` is
   * a miss. `'partial'`: it sees part (a tiered store's L1), so `undefined` means "ask `get`".
   */
  readonly syncReads?: 'complete' | 'partial'
  /**
   * A reader keeps `bytes` of this process's memory derived from `value` (a decoding it serves
   * from) for as long as the store holds `value` under `key`. A store with a byte budget counts
   * them against it, once per value (a larger figure replaces a smaller one); a store holding
   * something else under `key` now ignores the call. Synchronous, never throws.
   */
  retain?(key: string, value: Uint8Array, bytes: number): void
  /** The value and its remaining TTL in one call; lets a tiered store give L1 copies the right lifetime. */
  getWithTtl?(key: string): Promise<{ value: Uint8Array; ttlMs: number } | undefined>
  /** How many live keys are filed under any of `tags`, removing nothing (a purge dry run). */
  countTagged?(tags: readonly string[]): Promise<number>
  /** Like `invalidateTags`, but resolves the keys it removed, so peers can evict their own copies. */
  invalidateTagsReturningKeys?(
    tags: readonly string[],
    options?: StoreInvalidationOptions
  ): Promise<readonly string[]>
  /**
   * Adds `member` to the set under `key` unless the set already holds `max` live members, in one
   * atomic step (Redis: one Lua script on one key). A member lives `ttlMs` from its last add; the
   * set lives as long as its longest-lived member. See `Cache.addToBoundedSet`.
   */
  addToBoundedSet?(
    key: string,
    member: string,
    max: number,
    ttlMs: number
  ): Promise<BoundedSetResult>
  /**
   * Takes a lock for `ttlMs` if nobody holds it (Redis: SET NX PX with a random token). Resolves
   * whether it was taken. Used for fill locks across processes.
   */
  acquireLock?(key: string, token: string, ttlMs: number): Promise<boolean>
  /** Releases a lock only if `token` still owns it. */
  releaseLock?(key: string, token: string): Promise<boolean>
  /**
   * Asks the backing service to answer (Redis: PING, on every master of a Cluster); rejects with
   * why it cannot (a refused password, a refused connection). `Cache.health()` calls it under a
   * deadline. A store in this process (memory) needs none.
   */
  ping?(): Promise<void>
  /** Entry count and bytes held, where the store can tell cheaply. */
  size?(): StoreSize | undefined
  /**
   * Milliseconds `key` still lives, `undefined` when absent (Redis: one PTTL). Without it, the
   * cache reads the value with `getWithTtl` instead.
   */
  ttl?(key: string): Promise<number | undefined>
  /**
   * Stores `value` only if `key` is absent (`'absent'`, SET NX) or present (`'present'`, SET XX),
   * atomically; resolves whether it was written. Needed by `Cache.add` and `Cache.replace`.
   */
  setIf?(
    key: string,
    value: Uint8Array,
    options: StoreSetOptions,
    condition: 'absent' | 'present'
  ): Promise<boolean>
  /**
   * Counts a hit of `cost` in the rate-limit window under `key`, atomically, if it fits under
   * `limit` (a denied hit is not counted), on the store's own clock (Redis: the server's TIME, so
   * every process agrees). Needed by `rateLimit`.
   */
  hitWindow?(key: string, options: WindowHitOptions): Promise<WindowState>
  /** Drops expired entries now; resolves how many. Stores that expire on their own (Redis) need none. */
  cleanupExpired?(): Promise<number>
  /** The least and most recently written live entries whose keys start with `prefix`. O(entries): for diagnostics. */
  oldestAndNewest?(prefix: string): { oldest: EntryAge | undefined; newest: EntryAge | undefined }
  /** Entries and bytes measured from the backing server (Redis: exact when small, sampled when large). */
  measure?(): Promise<StoreMeasure>
  /** The store's breakers, its own queue and what it dropped, for a store that has them (Redis). */
  health?(): StoreHealth | undefined
  /** Tells `observer` of background faults, breaker transitions and recoveries; returns the function that stops it. */
  observe?(observer: StoreObserver): () => void
  /** Releases connections or timers the store created itself. */
  close?(): Promise<void>
}

/** How an invalidation reaches a store. */
export interface StoreInvalidationOptions {
  /**
   * A retry of an invalidation that failed before, run in the background by the cache's queue:
   * the store should try even where it would skip a request-path call (an open circuit breaker).
   */
  retry?: boolean | undefined
}

export interface StoreSetOptions {
  /** Time to live in milliseconds; always a positive integer. */
  ttlMs: number
  /** Tags this key is filed under, for `invalidateTags`. */
  tags?: readonly string[] | undefined
  /** A retry of an invalidation (a namespace's new version): sent even while the store's write breaker is open. */
  retry?: boolean | undefined
}

export interface StoreSize {
  entries: number
  bytes: number
  /** Entries removed to make room (LRU evictions) since the store was built, where the store can tell. */
  evictions?: number | undefined
  /** Entries dropped because their TTL passed (never counted as evictions), where the store can tell. */
  expirations?: number | undefined
}

/** What `Store.measure` found. */
export interface StoreMeasure {
  entries: number
  bytes: number
  /** `false` when counted from a sample (a large Redis): an estimate. */
  exact: boolean
  /** When it was measured (ms since the epoch). */
  measuredAt: number
}

/** A stored entry's key and times, in ms since the epoch. */
export interface EntryAge {
  key: string
  storedAt: number
  expiresAt: number
}

export interface WindowHitOptions {
  /** Most units the window allows. */
  limit: number
  /** Window length in ms. */
  windowMs: number
  /** Units this hit costs (1 for a request). */
  cost: number
  /** Sliding-window counter (two fixed windows, the previous one weighted) rather than a fixed window. */
  sliding: boolean
}

/** A rate-limit window after a hit: enough to compute what is left and when. */
export interface WindowState {
  /** Whether the hit fitted (and was counted). */
  allowed: boolean
  /** Units counted in the current fixed window, this hit included when allowed. */
  current: number
  /** Units counted in the previous fixed window (sliding windows weigh them; 0 for fixed). */
  previous: number
  /** Milliseconds since the current fixed window began. */
  elapsedMs: number
}

export interface SetOptions {
  /** Time to live: `'30s'`, `'5 minutes'`, or milliseconds (1000 or more). Falls back to the cache's `defaultTtl`. */
  ttl?: Duration | undefined
  /** Tags to file this entry under; `invalidateTags` removes it on every process sharing the store. */
  tags?: readonly string[] | undefined
}

/**
 * What an invalidation (`invalidateTags`, `delete`, `deletePattern`, a namespace's `invalidate`,
 * `clear`) did:
 * - `applied`: the store removed the entries; `removed` is how many it reported.
 * - `queued`: the store could not be reached; the invalidation waits in the cache's bounded queue
 *   and is retried, in order, until applied (`invalidation-applied` event). Local copies (a tiered
 *   store's L1) are already gone, and this process reads none of the purged entries meanwhile.
 * - `failed`: not applied and not queued: the queue is full, or the store said it cannot do this
 *   (a `CachewireError` of its own, such as an operation it does not support); an `error` event
 *   says why.
 */
export interface InvalidationResult {
  status: 'applied' | 'queued' | 'failed'
  /** Entries removed, as the store reported them; 0 unless `applied`. */
  removed: number
}

/** What `addToBoundedSet` did. */
export interface BoundedSetResult {
  /** This call added the member (it was absent and the set had room). */
  added: boolean
  /** The member is in the set now: just added, or there already (its lifetime renewed). */
  member: boolean
  /** Live members after the call. */
  size: number
}

/** Which invalidation a queue event is about. */
export type InvalidationTarget =
  | { kind: 'tags'; tags: readonly string[] }
  | { kind: 'delete'; key: string }
  | { kind: 'pattern'; pattern: string }
  | { kind: 'namespace'; namespace: string }
  | { kind: 'clear' }

/** Payloads of the events a `Cache` emits. */
export interface CacheEvents {
  hit: [event: { key: string }]
  miss: [event: { key: string }]
  set: [event: { key: string; ttlMs: number; bytes: number }]
  delete: [event: { key: string }]
  invalidate: [
    event: { tags?: readonly string[]; pattern?: string; namespace?: string; removed: number },
  ]
  /**
   * A circuit breaker changed state (`open` → `half-open` when a probe goes). `node` and
   * `direction` are set by stores that keep a breaker per node and direction.
   */
  breaker: [
    event: {
      from: CircuitState
      to: CircuitState
      node?: string | undefined
      direction?: 'read' | 'write' | undefined
    },
  ]
  /** The store could not be reached: the invalidation waits in the queue (`queued` long now). */
  'invalidation-queued': [event: { target: InvalidationTarget; queued: number; error: Error }]
  /** A queued invalidation was applied at last, `delayMs` after it was asked for. */
  'invalidation-applied': [
    event: { target: InvalidationTarget; removed: number; attempts: number; delayMs: number },
  ]
  /** Store faults are rate-limited: one per kind (code and operation) per second; `error.suppressed` counts the rest. */
  error: [error: Error]
}

export interface CacheStats {
  hits: number
  misses: number
  /** hits / (hits + misses), 0 when nothing was read. */
  hitRate: number
  sets: number
  deletes: number
  errors: number
  timeouts: number
  /** Calls the store did not send (a breaker open, its queue full or too slow): misses and dropped writes. */
  skipped: number
  /** Entries held, when the store can tell (memory: live entries; Redis: the last `cache.measure()`, refreshed in the background). */
  entries: number | undefined
  /** Bytes held, when the store can tell. */
  bytes: number | undefined
  /** Entries evicted to make room, when the store can tell (the memory store can). Expired entries are not evictions. */
  evictions: number | undefined
  /** Entries dropped because their TTL passed, when the store can tell (the memory store can; Redis expires on its own). */
  expirations: number | undefined
  /** Stale values served by `wrap` within their grace period (a refresh was due, failed or timed out). */
  stale: number
  /** The worst state among the store's breakers (`'closed'` for a store without breakers). */
  breaker: 'closed' | 'open' | 'half-open'
  /** Each breaker of the store: one per node and direction (reads, writes). Empty for a store without breakers. */
  breakers: readonly BreakerStatus[]
  /** Store operations not finished: commands on the wire, commands in the store's queue, and queued invalidations. */
  pendingOperations: number
  /** Invalidations waiting to be retried (see `InvalidationResult`). */
  queuedInvalidations: number
  /** Calls the store did not send, by direction and reason (`breaker-open`, `queue-full`, `queue-timeout`). */
  dropped: { read: DropCounts; write: DropCounts }
}

/** A message between processes sharing a store: which L1 copies to drop. */
export type InvalidationMessage =
  | { op: 'keys'; keys: readonly string[] }
  | { op: 'tags'; tags: readonly string[] }
  | { op: 'pattern'; pattern: string }
  | { op: 'clear' }

/**
 * Carries invalidations between processes (Redis pub/sub in `RedisBus`). Delivery is best
 * effort; a subscriber that reconnects is told through `onReconnect` so it can drop what it may
 * have missed.
 */
export interface Bus {
  publish(message: InvalidationMessage): Promise<void>
  subscribe(
    handler: (message: InvalidationMessage) => void,
    onReconnect?: () => void
  ): Promise<void>
  close?(): Promise<void>
}
