import calculateSlot from 'cluster-key-slot'
import type { Cluster, Redis } from 'ioredis'
import { listen } from './redis-driver.js'

/** An ioredis `Redis` or `Cluster`. */
export type IoredisClient = Redis | Cluster

/** How often a Cluster re-reads its slot map when its owner set no interval. */
export const SLOTS_REFRESH_INTERVAL_MS = 2000

/** The node a key maps to while a Cluster does not know its slots yet (connecting). */
const UNMAPPED = 'cluster'

function isCluster(client: IoredisClient): client is Cluster {
  return client.isCluster
}

/** `host:port`, as ioredis names a node in `cluster.slots`. */
function nodeName(client: Redis): string {
  const { host, port, path } = client.options
  return path !== undefined && path !== null && path !== ''
    ? path
    : `${host ?? '127.0.0.1'}:${port ?? 6379}`
}

/**
 * Which node serves which key, for per-node breakers and queues: a standalone client is one
 * node; on a Cluster a key goes to the master of its hash slot (`cluster.slots`), so a frozen
 * master switches off its own slots and no others. Also tells when a node becomes ready.
 */
export class RedisTopology {
  readonly client: IoredisClient
  readonly #standalone: string | undefined
  readonly #probeKeys = new Map<string, string>()
  readonly #undo: Array<() => void> = []
  #connecting: Promise<void> | undefined

  constructor(client: IoredisClient) {
    this.client = client
    this.#standalone = isCluster(client) ? undefined : nodeName(client)
  }

  get isCluster(): boolean {
    return this.client.isCluster
  }

  /**
   * While the client makes a connection attempt (not after one failed, not while it waits to be
   * used lazily): a promise that settles when the attempt ends, either way. A command sent now
   * would wait in the client for the connection; that wait is not Redis's answer time, so the
   * caller waits here, before its deadline starts.
   */
  connecting(): Promise<void> | undefined {
    const status = this.client.status
    if (status !== 'connecting' && status !== 'connect') {
      this.#connecting = undefined
      return undefined
    }
    this.#connecting ??= new Promise<void>((resolve) => {
      const removers: Array<() => void> = []
      const done = (): void => {
        for (const remove of removers.splice(0)) remove()
        this.#connecting = undefined
        resolve()
      }
      for (const event of ['ready', 'close', 'end', 'error', 'reconnecting'])
        removers.push(listen(this.client, event, done))
    })
    return this.#connecting
  }

  /** The node that serves `fullKey` now. */
  nodeOf(fullKey: string): string {
    if (!isCluster(this.client)) return this.#standalone as string
    return this.client.slots[calculateSlot(fullKey)]?.[0] ?? UNMAPPED
  }

  /** The connection to `node`, or `undefined` when the Cluster no longer has it as a master. */
  connection(node: string): Redis | undefined {
    if (!isCluster(this.client)) return node === this.#standalone ? this.client : undefined
    return this.client.nodes('master').find((master) => nodeName(master) === node)
  }

  /** Every master with its name: where SCAN must look. */
  masters(): Array<{ node: string; connection: Redis }> {
    if (!isCluster(this.client))
      return [{ node: this.#standalone as string, connection: this.client }]
    return this.client
      .nodes('master')
      .map((connection) => ({ node: nodeName(connection), connection }))
  }

  /**
   * A key of our own that `node` serves, for write probes: `<prefix>probe:{n}`, with the first `n`
   * whose slot is the node's (a hash tag keeps the search short: a master serves about 1/N of the slots).
   */
  probeKey(node: string, prefix: string): string | undefined {
    if (!isCluster(this.client)) return `${prefix}probe`
    const known = this.#probeKeys.get(node)
    if (known !== undefined && this.nodeOf(known) === node) return known
    for (let n = 0; n < 100_000; n++) {
      const key = `${prefix}probe:{${n}}`
      if (this.nodeOf(key) === node) {
        this.#probeKeys.set(node, key)
        return key
      }
    }
    return undefined
  }

  /** Asks a Cluster to re-read its slot map now (after a MOVED). */
  refreshSlots(): void {
    if (isCluster(this.client)) this.client.refreshSlotsCache()
  }

  /**
   * Calls `listener(node)` whenever a connection becomes ready: the standalone client, or any
   * Cluster node (present now or added later). Returns nothing; `close()` removes the listeners.
   */
  onNodeReady(listener: (node: string) => void): void {
    const watch = (connection: Redis): void => {
      this.#undo.push(listen(connection, 'ready', () => listener(nodeName(connection))))
    }
    if (!isCluster(this.client)) {
      watch(this.client)
      return
    }
    const cluster = this.client
    for (const connection of cluster.nodes('all')) watch(connection)
    this.#undo.push(listen(cluster, '+node', (connection: Redis) => watch(connection)))
  }

  /**
   * Makes sure a Cluster re-reads its slot map now and then, so a failover or a reshard is
   * noticed without waiting for a MOVED reply. ioredis reads `slotsRefreshInterval` when the
   * Cluster becomes ready: set on a Cluster that is not ready yet, it takes effect there; on one
   * already ready, a timer of ours does the refreshing until the Cluster's own takes over (its
   * next ready). A Cluster that already has an interval is left alone.
   */
  ensureSlotsRefresh(): void {
    if (!isCluster(this.client)) return
    const cluster = this.client
    const interval = cluster.options.slotsRefreshInterval
    if (typeof interval === 'number' && interval > 0) return
    cluster.options.slotsRefreshInterval = SLOTS_REFRESH_INTERVAL_MS
    if (cluster.status !== 'ready') return
    const timer = setInterval(() => cluster.refreshSlotsCache(), SLOTS_REFRESH_INTERVAL_MS)
    timer.unref()
    let unlisten = (): void => {}
    const stop = (): void => {
      clearInterval(timer)
      unlisten()
    }
    unlisten = listen(cluster, 'ready', stop)
    this.#undo.push(stop)
  }

  /** Removes the listeners and timers this topology added to the client. */
  close(): void {
    for (const undo of this.#undo.splice(0)) undo()
  }
}
