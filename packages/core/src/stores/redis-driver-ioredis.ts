import type { Cluster, ClusterOptions, Redis } from 'ioredis'
import type { Writable } from 'node:stream'
import type {
  RedisArgument,
  RedisConnectionEvent,
  RedisDriver,
  RedisNodeConnection,
  RedisScript,
} from './redis-driver.js'
import { listen } from './redis-driver.js'
import { RedisTopology, type IoredisClient } from './redis-topology.js'

/**
 * A new client like `client` (a connection, or a Cluster on the same nodes). Narrowed first: a
 * union of ioredis 6's generic `duplicate` signatures cannot be called, so this compiles against
 * ioredis 5 and 6 alike.
 */
export function duplicateIoredis(
  client: IoredisClient,
  clusterOptions?: ClusterOptions
): IoredisClient {
  return client.isCluster
    ? (client as Cluster).duplicate([], clusterOptions)
    : (client as Redis).duplicate()
}

export function isIoredisClient(value: unknown): value is IoredisClient {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { getBuffer?: unknown }).getBuffer === 'function' &&
    typeof (value as { isCluster?: unknown }).isCluster === 'boolean'
  )
}

type Method = (...args: RedisArgument[]) => Promise<unknown>

/**
 * A command through ioredis's own method for it (`get`, `getBuffer`, `memory`…), never `call`:
 * with auto-pipelining on, ioredis loses the command name of a `call` (it would send
 * `cw:k:key` as the command).
 */
function invoke(
  target: Redis | Cluster,
  args: readonly RedisArgument[],
  buffers = false
): Promise<unknown> {
  const [name, ...rest] = args as [string, ...RedisArgument[]]
  const method = (target as unknown as Record<string, Method | undefined>)[
    name.toLowerCase() + (buffers ? 'Buffer' : '')
  ]
  if (typeof method !== 'function')
    return buffers ? target.callBuffer(name, ...rest) : target.call(name, ...rest)
  return method.apply(target, rest)
}

function nodeConnection(node: Redis): RedisNodeConnection {
  return {
    send: (args) => invoke(node, args),
    pipeline: async (commands) => {
      const replies =
        (await node
          .pipeline(commands.map(([name, ...rest]) => [(name as string).toLowerCase(), ...rest]))
          .exec()) ?? []
      return replies.map(([error, reply]) => [error, reply])
    },
  }
}

/** Cluster clients already warned about auto-pipelining: many stores may share one. */
const warnedAutoPipelining = new WeakSet<object>()

/**
 * ioredis 5 can throw `TypeError: results[i] is not iterable` from the callback of an
 * auto-pipelined batch on a Cluster while slots move (redis/ioredis#1931; 6.1 spreads the
 * batch's results over its callbacks the same way), from a
 * `process.nextTick` no caller can catch: the process ends. The store's own write connection
 * turns it off; a user's client is the user's to change, so they are told once.
 */
function warnClusterAutoPipelining(client: IoredisClient): void {
  if (!client.isCluster || client.options.enableAutoPipelining !== true) return
  if (warnedAutoPipelining.has(client)) return
  warnedAutoPipelining.add(client)
  process.emitWarning(
    'cachewire: this ioredis Cluster has enableAutoPipelining on. While slots move (a reshard, a ' +
      'failover), ioredis (5 and 6) can throw an uncaught TypeError from an auto-pipelined batch, which ends ' +
      "the process. The store's writes go on a connection of its own without it; build the Cluster " +
      'with enableAutoPipelining: false (CACHE_CLUSTER_DEFAULTS) for the reads too.',
    { code: 'CACHEWIRE_CLUSTER_AUTO_PIPELINING' }
  )
}

/**
 * ioredis, standalone or Cluster: ioredis routes each command by its key (MOVED and ASK
 * followed), auto-pipelines when asked to, and runs scripts registered with `defineCommand`
 * (EVALSHA, EVAL on NOSCRIPT).
 */
export class IoredisDriver implements RedisDriver {
  readonly library = 'ioredis'
  readonly client: IoredisClient
  readonly #topology: RedisTopology
  /**
   * The sockets whose writes wait for the end of this event-loop turn, or `undefined` when
   * none do. ioredis writes each command on its own (`write()` per GET: the store leaves reads
   * out of auto-pipelining, which would build a pipeline per request), and on loopback each
   * write runs Redis's side of the socket in our system time too. Corked from the first command
   * of a turn until a `setImmediate` (after the poll phase), every request that one poll brought
   * in sends its commands in one `writev`, as node-redis does with its own writes. A command sent
   * from a `setImmediate` callback after the release waits for the next turn's.
   */
  #held: Writable[] | undefined

  readonly #releaseWrites = (): void => {
    const held = this.#held
    this.#held = undefined
    // The streams corked, not the client's current ones: a reconnect may have replaced them.
    if (held !== undefined) for (const stream of held) stream.uncork()
  }

  constructor(client: IoredisClient) {
    this.client = client
    this.#topology = new RedisTopology(client)
    warnClusterAutoPipelining(client)
  }

  get isCluster(): boolean {
    return this.client.isCluster
  }

  get isReady(): boolean {
    return this.client.status === 'ready'
  }

  get ended(): boolean {
    return this.client.status === 'end'
  }

  command(_key: string, args: readonly RedisArgument[], buffers = false): Promise<unknown> {
    if (this.#held === undefined) this.#holdWrites()
    return invoke(this.client, args, buffers)
  }

  getBytes(key: string): Promise<unknown> {
    if (this.#held === undefined) this.#holdWrites()
    // ioredis's own method, called directly: `invoke` lower-cases the name, joins a new method
    // name and looks it up, and copies the arguments (callgrind: ~1 k instructions a read).
    return this.client.getBuffer(key)
  }

  #holdWrites(): void {
    if (this.client.status !== 'ready') return
    const held: Writable[] = []
    const connections = this.client.isCluster
      ? (this.client as Cluster).nodes('all')
      : [this.client as Redis]
    for (const connection of connections) {
      const stream = connection.stream as Writable | undefined
      if (connection.status !== 'ready' || stream === undefined || stream.destroyed) continue
      stream.cork()
      held.push(stream)
    }
    if (held.length === 0) return
    this.#held = held
    // Scheduled before the command is sent: ioredis's own auto-pipelines also flush in a
    // setImmediate, and theirs then find the socket already released.
    setImmediate(this.#releaseWrites)
  }

  script(script: RedisScript, key: string, args: readonly RedisArgument[]): Promise<unknown> {
    if (this.#held === undefined) this.#holdWrites()
    const commands = this.client as unknown as Record<
      string,
      ((...args: RedisArgument[]) => Promise<unknown>) | undefined
    >
    if (typeof commands[script.name] !== 'function')
      this.client.defineCommand(script.name, { numberOfKeys: script.numberOfKeys, lua: script.lua })
    return (commands[script.name] as (...args: RedisArgument[]) => Promise<unknown>).call(
      this.client,
      key,
      ...args
    )
  }

  nodeOf(fullKey: string): string {
    return this.#topology.nodeOf(fullKey)
  }

  connection(node: string): RedisNodeConnection | undefined {
    const connection = this.#topology.connection(node)
    return connection === undefined ? undefined : nodeConnection(connection)
  }

  masters(): Array<{ node: string; connection: RedisNodeConnection }> {
    return this.#topology
      .masters()
      .map(({ node, connection }) => ({ node, connection: nodeConnection(connection) }))
  }

  probeKey(node: string, prefix: string): string | undefined {
    return this.#topology.probeKey(node, prefix)
  }

  connecting(): Promise<void> | undefined {
    return this.#topology.connecting()
  }

  refreshSlots(): void {
    this.#topology.refreshSlots()
  }

  ensureSlotsRefresh(): void {
    this.#topology.ensureSlotsRefresh()
  }

  onNodeReady(listener: (node: string) => void): void {
    this.#topology.onNodeReady(listener)
  }

  on(event: RedisConnectionEvent, listener: (error?: Error) => void): () => void {
    // Counted: many stores (one per prefix) may share one client without a MaxListeners warning.
    return listen(this.client, event, listener)
  }

  duplicate(): RedisDriver {
    return new IoredisDriver(duplicateIoredis(this.client, { enableAutoPipelining: false }))
  }

  reopen(): void {
    if (this.client.status === 'end') this.client.connect().catch(() => undefined)
  }

  failFastOnceReady(): void {
    this.client.once('ready', () => {
      this.client.options.enableOfflineQueue = false
    })
  }

  async quit(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect())
  }

  disconnect(): void {
    this.client.disconnect()
  }

  close(): void {
    this.#topology.close()
  }
}
