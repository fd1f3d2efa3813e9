/**
 * node-redis clients (the `redis` package, v5, and v4 through the `redis4` alias) on the test
 * Redis and the shared cluster, connected, each quit when the test (or, outside a test, the file)
 * ends. As any app must, each listens to `error`: node-redis throws an `error` event nobody
 * listens to, which would end the test process when a proxy blackholes the connection.
 */
import { createClient as createClient5, createCluster as createCluster5 } from 'redis'
import { createClient as createClient4, createCluster as createCluster4 } from 'redis4'
import type { RedisClient } from '@cachewire/core/redis'
import { registerCleanup } from './cleanup.js'
import { clusterNodes, redisUrl } from './redis.js'
import { IOREDIS_MAJORS } from './ioredis6.js'

export type NodeRedisVersion = 4 | 5

export type NodeRedisClientOf<V extends NodeRedisVersion> = V extends 4
  ? ReturnType<typeof createClient4>
  : ReturnType<typeof createClient5>
export type NodeRedisClusterOf<V extends NodeRedisVersion> = V extends 4
  ? ReturnType<typeof createCluster4>
  : ReturnType<typeof createCluster5>

interface Closable {
  isOpen: boolean
  disconnect(): Promise<unknown> | unknown
  quit(): Promise<unknown>
}

/** Quit politely, but never let a hung (blackholed) connection hold up the cleanup. */
async function close(client: Closable): Promise<void> {
  if (!client.isOpen) return
  const timer = new Promise((resolve) => setTimeout(resolve, 1_000).unref())
  await Promise.race([client.quit().catch(() => {}), timer])
  if (client.isOpen) await Promise.resolve(client.disconnect()).catch(() => {})
}

/** A connected node-redis client on REDIS_URL, or on `port` of 127.0.0.1 (a tcp-proxy); `resp: 3` (v5 only) speaks RESP3. */
export async function connectNodeRedis<V extends NodeRedisVersion>(
  version: V,
  options: { port?: number; resp?: 2 | 3 } = {}
): Promise<NodeRedisClientOf<V>> {
  const url = new URL(redisUrl())
  if (options.port !== undefined) {
    url.hostname = '127.0.0.1'
    url.port = String(options.port)
  }
  const settings = { url: url.toString(), socket: { connectTimeout: 5_000 } }
  const client = (
    version === 4
      ? createClient4(settings)
      : createClient5({ ...settings, RESP: options.resp ?? 2 })
  ) as NodeRedisClientOf<V>
  client.on('error', () => {})
  registerCleanup(() => close(client as unknown as Closable))
  await client.connect()
  return client
}

/** A connected node-redis Cluster client on the shared cluster. */
export async function connectNodeRedisCluster<V extends NodeRedisVersion>(
  version: V
): Promise<NodeRedisClusterOf<V>> {
  const rootNodes = clusterNodes().map(({ host, port }) => ({ url: `redis://${host}:${port}` }))
  const settings = { rootNodes, defaults: { socket: { connectTimeout: 5_000 } } }
  const cluster = (
    version === 4 ? createCluster4(settings) : createCluster5(settings)
  ) as NodeRedisClusterOf<V>
  cluster.on('error', () => {})
  registerCleanup(() => close(cluster as unknown as Closable))
  await cluster.connect()
  return cluster
}

/** A client library RedisStore takes, and how to connect one of its clients (on `port` of 127.0.0.1: a tcp-proxy). */
export interface RedisLibrary {
  name: string
  connect(options?: { port?: number }): Promise<RedisClient>
}

/** Every client library the store supports: the fault tests run once per library. */
export const REDIS_LIBRARIES: RedisLibrary[] = [
  ...IOREDIS_MAJORS.map(({ name, createClient: connectOne }) => ({
    name,
    connect: async ({ port }: { port?: number } = {}) => {
      const client = connectOne(port === undefined ? {} : { port, host: '127.0.0.1' })
      await client.ping()
      return client
    },
  })),
  { name: 'node-redis v4', connect: (options) => connectNodeRedis(4, options) },
  { name: 'node-redis v5', connect: (options) => connectNodeRedis(5, options) },
]
