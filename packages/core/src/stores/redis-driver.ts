/**
 * The seam between RedisStore (and its runner) and a Redis client library. The store speaks
 * in raw commands (`['SET', key, value, 'PX', '1000']`) and scripts; a driver sends them on
 * the client it wraps, routes a key to its node on a Cluster, and reports the client's
 * connection events. One implementation per library: ioredis (redis-driver-ioredis.ts) and
 * node-redis v4/v5 (redis-driver-node-redis.ts).
 */

export type RedisArgument = string | Buffer

/** One Lua script the store runs: sent with EVALSHA, then EVAL when the server does not know it (NOSCRIPT). */
export interface RedisScript {
  readonly name: string
  readonly lua: string
  readonly numberOfKeys: 1
}

/** A connection to one node (the standalone server, or one Cluster master). */
export interface RedisNodeConnection {
  /** One command; bulk strings come back as strings. */
  send(args: readonly RedisArgument[]): Promise<unknown>
  /** Several commands in one round trip; each reply or error in order. */
  pipeline(
    commands: ReadonlyArray<readonly RedisArgument[]>
  ): Promise<Array<[Error | null, unknown]>>
}

export type RedisConnectionEvent = 'ready' | 'error' | 'end'

/** What `listen` needs of a client: Node's EventEmitter, which ioredis and node-redis clients are. */
export interface ListenerCounted {
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
  getMaxListeners(): number
  setMaxListeners(n: number): unknown
}

/**
 * Adds a listener the store will remove, raising the emitter's listener limit by one meanwhile:
 * several stores may share one client (one per prefix), and each listens once, which is no leak.
 * The remover is idempotent, so a store and its driver may both call it on close without
 * lowering the app's own limit twice.
 */
export function listen<A extends unknown[]>(
  emitter: ListenerCounted,
  event: string,
  listener: (...args: A) => void
): () => void {
  const limit = emitter.getMaxListeners()
  if (limit > 0) emitter.setMaxListeners(limit + 1)
  emitter.on(event, listener as (...args: unknown[]) => void)
  let removed = false
  return () => {
    if (removed) return
    removed = true
    emitter.off(event, listener as (...args: unknown[]) => void)
    const now = emitter.getMaxListeners()
    if (now > 0) emitter.setMaxListeners(Math.max(1, now - 1))
  }
}

export interface RedisDriver {
  /** Which library: what error messages and docs name. */
  readonly library: 'ioredis' | 'node-redis'
  /** The client object as given (or built). */
  readonly client: unknown
  readonly isCluster: boolean
  /** Whether commands can go now (the connection, or the Cluster, is ready). */
  readonly isReady: boolean
  /** A command on the key's node. `buffers`: bulk strings come back as Buffers (values), else strings. */
  command(key: string, args: readonly RedisArgument[], buffers?: boolean): Promise<unknown>
  /**
   * GET `key`, the value as bytes (`null` when absent): `command(key, ['GET', key], true)` without
   * building and reading back an argument list, on the path of every read.
   */
  getBytes(key: string): Promise<unknown>
  /** A script on the key's node, EVALSHA first, EVAL on NOSCRIPT. */
  script(script: RedisScript, key: string, args: readonly RedisArgument[]): Promise<unknown>
  /** The node `fullKey` maps to now (its breaker's name). */
  nodeOf(fullKey: string): string
  /** The connection to `node`, or `undefined` when it is no longer a master. */
  connection(node: string): RedisNodeConnection | undefined
  /** Every master with its name: where SCAN must look. */
  masters(): Array<{ node: string; connection: RedisNodeConnection }>
  /** A key of our own that `node` serves, for write probes. */
  probeKey(node: string, prefix: string): string | undefined
  /** While a connection attempt is under way: settles when it ends, either way (the runner waits before a deadline starts). */
  connecting(): Promise<void> | undefined
  /** Asks a Cluster to re-read its slot map now (after a MOVED), where the library allows it. */
  refreshSlots(): void
  /** Makes sure a Cluster notices failovers and reshards without waiting for a MOVED, where the library allows it. */
  ensureSlotsRefresh(): void
  /** Calls `listener(node)` whenever a connection to a node becomes ready. */
  onNodeReady(listener: (node: string) => void): void
  /** Listens to the client's own connection events; returns the remover. */
  on(event: RedisConnectionEvent, listener: (error?: Error) => void): () => void
  /** A second client like this one, on connections of its own, connecting (the store's write connection). */
  duplicate(): RedisDriver
  /** Connects again a client that ended (the write connection follows the client it duplicates). */
  reopen(): void
  /** Whether the client has ended (quit or disconnected for good). */
  readonly ended: boolean
  /** Queue commands only until the first connection (a client the store owns): then fail fast. */
  failFastOnceReady(): void
  /** Closes politely, or at once when that fails. */
  quit(): Promise<void>
  /** Closes at once. */
  disconnect(): void
  /** Removes the listeners and timers this driver added to the client. */
  close(): void
}

/** Reply errors (the server said no) of either library: about the command, unless their prefix says the node is sick. */
export function isReplyError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  if ((error as { name?: unknown }).name === 'ReplyError') return true
  // node-redis: ErrorReply (v4) and its SimpleError/BlobError subclasses (v5), which keep Error's name.
  for (
    let proto = Object.getPrototypeOf(error) as object | null;
    proto !== null && proto !== Error.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    if ((proto as { constructor?: { name?: string } }).constructor?.name === 'ErrorReply')
      return true
  }
  return false
}

/** Normalises a reply to strings throughout (RESP3 doubles and nested pairs included), for ZRANGE WITHSCORES and SCAN. */
export function flatStrings(reply: unknown): string[] {
  if (!Array.isArray(reply)) return []
  return (reply as unknown[])
    .flat(2)
    .map((item) => (Buffer.isBuffer(item) ? item.toString() : String(item)))
}
