import { createHash } from 'node:crypto'
import calculateSlot from 'cluster-key-slot'
import type {
  RedisArgument,
  RedisConnectionEvent,
  RedisDriver,
  RedisNodeConnection,
  RedisScript,
} from './redis-driver.js'
import { listen } from './redis-driver.js'

/**
 * The parts of a node-redis (`redis` v4 or v5) client the store uses, typed here so that
 * @cachewire/core needs neither the package nor its types: `createClient()` …
 */
export interface NodeRedisClient {
  sendCommand(args: RedisArgument[], options?: object): Promise<unknown>
  duplicate(overrides?: object): NodeRedisClient
  connect(): Promise<unknown>
  readonly isOpen: boolean
  readonly isReady: boolean
  readonly options?:
    { url?: string; socket?: { host?: string; port?: number; path?: string } } | undefined
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
  once(event: string, listener: (...args: unknown[]) => void): unknown
  getMaxListeners(): number
  setMaxListeners(n: number): unknown
}

/** A Cluster node as node-redis lists it in `masters` and `slots[n].master`. */
interface NodeRedisClusterNode {
  readonly address: string
  readonly host: string
  readonly port: number
}

/** … and `createCluster()`. */
export interface NodeRedisCluster {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: RedisArgument[],
    options?: object
  ): Promise<unknown>
  duplicate(overrides?: object): NodeRedisCluster
  connect(): Promise<unknown>
  nodeClient(node: NodeRedisClusterNode): NodeRedisClient | Promise<NodeRedisClient>
  readonly masters: readonly NodeRedisClusterNode[]
  readonly slots: ReadonlyArray<{ master: NodeRedisClusterNode } | undefined>
  readonly isOpen: boolean
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
  getMaxListeners(): number
  setMaxListeners(n: number): unknown
}

export type NodeRedisAnyClient = NodeRedisClient | NodeRedisCluster

const has = (value: object, name: string): boolean =>
  typeof (value as Record<string, unknown>)[name] === 'function'

export function isNodeRedisCluster(value: unknown): value is NodeRedisCluster {
  return (
    typeof value === 'object' &&
    value !== null &&
    has(value, 'sendCommand') &&
    has(value, 'nodeClient') &&
    'masters' in value
  )
}

export function isNodeRedisClient(value: unknown): value is NodeRedisAnyClient {
  if (typeof value !== 'object' || value === null) return false
  if (isNodeRedisCluster(value)) return true
  return (
    has(value, 'sendCommand') &&
    has(value, 'duplicate') &&
    has(value, 'connect') &&
    typeof (value as { isReady?: unknown }).isReady === 'boolean'
  )
}

/**
 * Options of each command: bulk strings as Buffers or strings, whatever the client's own
 * defaults (a v5 client made `withTypeMapping` elsewhere). v4 reads `returnBuffers`, v5 reads
 * `typeMapping` (36 is RESP's `$`, the bulk string type); each ignores the other's key.
 */
const AS_BUFFERS = { returnBuffers: true, typeMapping: { 36: Buffer } }
const AS_STRINGS = { returnBuffers: false, typeMapping: {} }

/** `host:port` of a standalone client, as its options say (the breaker's node name). */
function clientName(client: NodeRedisClient): string {
  const options = client.options ?? {}
  if (options.socket?.path !== undefined) return options.socket.path
  if (options.socket?.host !== undefined || options.socket?.port !== undefined)
    return `${options.socket.host ?? 'localhost'}:${options.socket.port ?? 6379}`
  if (options.url !== undefined) {
    const url = new URL(options.url)
    return `${url.hostname.replace(/^\[|\]$/g, '')}:${url.port || 6379}`
  }
  return 'localhost:6379'
}

const shaOf = new Map<string, string>()
function sha1(lua: string): string {
  let sha = shaOf.get(lua)
  if (sha === undefined) {
    sha = createHash('sha1').update(lua).digest('hex')
    shaOf.set(lua, sha)
  }
  return sha
}

/** EVALSHA, then EVAL when the server has not seen the script (NOSCRIPT): the script cache is per server and emptied by a restart. */
async function runScript(
  send: (args: RedisArgument[]) => Promise<unknown>,
  script: RedisScript,
  key: string,
  args: readonly RedisArgument[]
): Promise<unknown> {
  try {
    return await send(['EVALSHA', sha1(script.lua), String(script.numberOfKeys), key, ...args])
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return send(['EVAL', script.lua, String(script.numberOfKeys), key, ...args])
  }
}

/** Commands sent in one tick leave in one write: node-redis pipelines them itself. */
async function pipelineOn(
  client: NodeRedisClient,
  commands: ReadonlyArray<readonly RedisArgument[]>
): Promise<Array<[Error | null, unknown]>> {
  const settled = await Promise.allSettled(
    commands.map((command) => client.sendCommand([...command], AS_STRINGS))
  )
  return settled.map((result) =>
    result.status === 'fulfilled'
      ? [null, result.value]
      : [
          result.reason instanceof Error ? result.reason : new Error(String(result.reason)),
          undefined,
        ]
  )
}

function standaloneConnection(client: NodeRedisClient): RedisNodeConnection {
  return {
    send: (args) => client.sendCommand([...args], AS_STRINGS),
    pipeline: (commands) => pipelineOn(client, commands),
  }
}

/** A Cluster node's connection, made by node-redis on first use (`nodeClient` may return a promise). */
function clusterNodeConnection(
  cluster: NodeRedisCluster,
  node: NodeRedisClusterNode,
  watch: (client: NodeRedisClient, name: string) => void
): RedisNodeConnection {
  const client = async (): Promise<NodeRedisClient> => {
    const connection = await cluster.nodeClient(node)
    watch(connection, node.address)
    return connection
  }
  return {
    send: async (args) => (await client()).sendCommand([...args], AS_STRINGS),
    pipeline: async (commands) => pipelineOn(await client(), commands),
  }
}

function hardClose(client: NodeRedisAnyClient): void {
  const closer = client as unknown as { destroy?: () => unknown; disconnect?: () => unknown }
  // v5 names it destroy (disconnect is deprecated there); v4 only has disconnect.
  try {
    const result = typeof closer.destroy === 'function' ? closer.destroy() : closer.disconnect?.()
    if (result instanceof Promise) result.catch(() => undefined)
  } catch {
    // Already closed: nothing to do.
  }
}

/**
 * node-redis (`redis` v4 and v5), `createClient()` or `createCluster()`. Commands go through
 * `sendCommand` (the Cluster routes them by key and follows MOVED and ASK itself); scripts go
 * as EVALSHA with an EVAL fallback; a pipeline is commands sent in one tick, which node-redis
 * writes together. The client must be connected by its owner (`await client.connect()`); the
 * store connects the duplicates it makes.
 */
export class NodeRedisDriver implements RedisDriver {
  readonly library = 'node-redis'
  readonly client: NodeRedisAnyClient
  readonly isCluster: boolean
  readonly #undo: Array<() => void> = []
  readonly #watched = new WeakSet<NodeRedisClient>()
  readonly #readyListeners: Array<(node: string) => void> = []
  readonly #probeKeys = new Map<string, string>()
  /** A connect of our own (a duplicate) not yet settled. */
  #connecting: Promise<void> | undefined
  #ended = false

  constructor(client: NodeRedisAnyClient, connect = false) {
    this.client = client
    this.isCluster = isNodeRedisCluster(client)
    this.#undo.push(listen(client, 'end', () => (this.#ended = true)))
    if (!this.isCluster) this.#undo.push(listen(client, 'ready', () => (this.#ended = false)))
    if (connect) this.#connect()
  }

  get isReady(): boolean {
    if (this.isCluster)
      return this.client.isOpen && (this.client as NodeRedisCluster).masters.length > 0
    return (this.client as NodeRedisClient).isReady
  }

  get ended(): boolean {
    return this.#ended || !this.client.isOpen
  }

  command(key: string, args: readonly RedisArgument[], buffers = false): Promise<unknown> {
    return this.#send(key, [...args], buffers ? AS_BUFFERS : AS_STRINGS)
  }

  getBytes(key: string): Promise<unknown> {
    return this.#send(key, ['GET', key], AS_BUFFERS)
  }

  script(script: RedisScript, key: string, args: readonly RedisArgument[]): Promise<unknown> {
    return runScript((command) => this.#send(key, command, AS_STRINGS), script, key, args)
  }

  nodeOf(fullKey: string): string {
    if (!this.isCluster) return clientName(this.client as NodeRedisClient)
    return (
      (this.client as NodeRedisCluster).slots[calculateSlot(fullKey)]?.master.address ?? 'cluster'
    )
  }

  connection(node: string): RedisNodeConnection | undefined {
    return this.masters().find((master) => master.node === node)?.connection
  }

  masters(): Array<{ node: string; connection: RedisNodeConnection }> {
    if (!this.isCluster) {
      const client = this.client as NodeRedisClient
      return [{ node: clientName(client), connection: standaloneConnection(client) }]
    }
    const cluster = this.client as NodeRedisCluster
    return cluster.masters.map((master) => ({
      node: master.address,
      connection: clusterNodeConnection(cluster, master, (client, name) =>
        this.#watch(client, name)
      ),
    }))
  }

  probeKey(node: string, prefix: string): string | undefined {
    if (!this.isCluster) return `${prefix}probe`
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

  connecting(): Promise<void> | undefined {
    return this.#connecting
  }

  /** node-redis re-reads the slot map itself on MOVED and on a lost node; it offers no public call to ask for it. */
  refreshSlots(): void {}

  /** node-redis has no periodic slot-map refresh to turn on: it re-reads the map on MOVED and on a lost node. */
  ensureSlotsRefresh(): void {}

  onNodeReady(listener: (node: string) => void): void {
    this.#readyListeners.push(listener)
    if (!this.isCluster) {
      const client = this.client as NodeRedisClient
      this.#watch(client, clientName(client))
    }
  }

  on(event: RedisConnectionEvent, listener: (error?: Error) => void): () => void {
    const remove = listen(this.client, event, listener as (...args: unknown[]) => void)
    this.#undo.push(remove)
    return remove
  }

  duplicate(): RedisDriver {
    return new NodeRedisDriver(this.client.duplicate(), true)
  }

  reopen(): void {
    if (!this.client.isOpen) this.#connect()
  }

  /** node-redis reads `disableOfflineQueue` at construction only: a client it built keeps its queue, and the deadlines bound the wait. */
  failFastOnceReady(): void {}

  async quit(): Promise<void> {
    if (!this.client.isOpen) return
    const closer = this.client as unknown as {
      close?: () => Promise<unknown>
      quit?: () => Promise<unknown>
    }
    try {
      // v5 names it close (quit is deprecated there); v4 only has quit.
      await (typeof closer.close === 'function' ? closer.close() : closer.quit?.())
    } catch {
      hardClose(this.client)
    }
  }

  disconnect(): void {
    if (this.client.isOpen) hardClose(this.client)
  }

  close(): void {
    for (const undo of this.#undo.splice(0)) undo()
  }

  #send(key: string, args: RedisArgument[], options: object): Promise<unknown> {
    if (this.isCluster)
      return (this.client as NodeRedisCluster).sendCommand(key, false, args, options)
    return (this.client as NodeRedisClient).sendCommand(args, options)
  }

  #connect(): void {
    const attempt = this.client.connect().then(
      () => undefined,
      () => undefined
    )
    const connecting = attempt.finally(() => {
      if (this.#connecting === connecting) this.#connecting = undefined
    })
    this.#connecting = connecting
  }

  /** Tells the ready listeners when `client` (the standalone client or one Cluster node's) becomes ready. */
  #watch(client: NodeRedisClient, name: string): void {
    if (this.#watched.has(client)) return
    this.#watched.add(client)
    this.#undo.push(
      listen(client, 'ready', () => {
        for (const listener of this.#readyListeners) listener(name)
      })
    )
  }
}
