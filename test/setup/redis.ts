/**
 * Test-side Redis helpers. Which Redis and which cluster come from the integration project's
 * globalSetup (./global-setup.ts) through `inject()`.
 *
 * No Redis means a loud skip on a laptop and a failure under CI=true (DESIGN.md "Real parts").
 * Files run in parallel against one Redis and one cluster: each uses its own `uniquePrefix()` and
 * deletes it afterwards; nothing here ever FLUSHes.
 *
 * Create clients in beforeAll/tests, not in a describe body: vitest still runs the body of a
 * skipped describe to collect its tests, and a client made there would try to connect.
 */
import { randomBytes } from 'node:crypto'
import { basename } from 'node:path'
import { Cluster, Redis } from 'ioredis'
import type { ClusterOptions, RedisOptions } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { registerCleanup } from './cleanup.js'
import { startCluster, stopCluster } from './redis-cluster.js'
import type { ClusterNode, ClusterProbe, RedisProbe } from './provided.js'

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
const onCI = process.env.CI === 'true'

/** REDIS_URL as globalSetup saw it, else redis://127.0.0.1:6379. */
export function redisUrl(): string {
  return redisProbe().url
}

// Without globalSetup (a helper imported from elsewhere) we cannot know: assume up and let the
// connection error speak.
function redisProbe(): RedisProbe {
  return inject('redis') ?? { url: process.env.REDIS_URL || DEFAULT_REDIS_URL, ok: true }
}

function clusterProbe(): ClusterProbe {
  return (
    inject('redisCluster') ?? {
      ok: false,
      nodes: [],
      reason: 'no globalSetup ran, so no cluster was started (run through test/vitest.config.ts)',
      startedHere: false,
    }
  )
}

/** The shared cluster's seed nodes (all six); empty when it is not up. */
export function clusterNodes(): ClusterNode[] {
  return clusterProbe().nodes
}

/**
 * A key prefix no other file, worker or run shares: `cw-test:<label>:<pid>:<random>:`.
 * The label defaults to the test file's name, so leftovers say where they came from.
 */
export function uniquePrefix(label?: string): string {
  const name = label ?? basename(expect.getState().testPath ?? 'test').replace(/\.test\.ts$/, '')
  const safe = name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 40)
  return `cw-test:${safe}:${process.pid}:${randomBytes(4).toString('hex')}:`
}

const warned = new Set<string>()

function available(what: string, probe: { ok: boolean; reason?: string }): boolean {
  if (probe.ok) return true
  if (onCI) throw new Error(`${what} is required under CI=true: ${probe.reason}`)
  if (!warned.has(what)) {
    warned.add(what)
    console.error(
      `\n!!! SKIPPING ${what} tests in ${expect.getState().testPath ?? 'this file'}: ${probe.reason}\n`
    )
  }
  return false
}

/** True when Redis is up. When it is not: false plus a loud stderr message, or a throw under CI=true. */
export function requireRedis(): boolean {
  return available('Redis', redisProbe())
}

/** As requireRedis, for the Redis Cluster. */
export function requireCluster(): boolean {
  return available('Redis Cluster', clusterProbe())
}

function describeWith(what: string, check: () => boolean, name: string, fn: () => void): void {
  let ok: boolean
  try {
    ok = check()
  } catch (error) {
    // CI=true and the service is missing: one failing test that says why, instead of a suite
    // whose hooks would hang on a connection that never comes.
    describe(name, () => {
      it(`has the ${what} it needs`, () => {
        throw error
      })
    })
    return
  }
  if (ok) describe(name, fn)
  else describe.skip(name, fn)
}

/** `describe` that runs when Redis is reachable; loud skip otherwise, failure under CI=true. */
export function describeRedis(name: string, fn: () => void): void {
  describeWith('Redis', requireRedis, name, fn)
}

/** `describe` that runs when the Redis Cluster is up; loud skip otherwise, failure under CI=true. */
export function describeCluster(name: string, fn: () => void): void {
  describeWith('Redis Cluster', requireCluster, name, fn)
}

/** Quit politely, but never let a hung (e.g. blackholed) connection hold up the cleanup. */
async function close(client: Redis | Cluster): Promise<void> {
  if (client.status === 'end') return
  const timer = new Promise((resolve) => setTimeout(resolve, 1_000).unref())
  await Promise.race([client.quit().catch(() => {}), timer])
  client.disconnect()
}

/** REDIS_URL as ioredis options, so that `options.port` (a tcp-proxy, say) can override it. */
function urlOptions(url: string): RedisOptions {
  const u = new URL(url)
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 6379),
    username: decodeURIComponent(u.username) || undefined,
    password: decodeURIComponent(u.password) || undefined,
    db: Number(u.pathname.slice(1) || 0),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  }
}

/**
 * A Redis client on REDIS_URL, quit when the test (or, outside a test, the file) ends.
 * `options` win over the URL: `createClient({ port: proxy.port })` goes through a tcp-proxy.
 * `RedisClass` is ioredis 5's `Redis` unless given another major's (setup/ioredis6.ts).
 */
export function createClient(options: RedisOptions = {}, RedisClass: typeof Redis = Redis): Redis {
  const client = new RedisClass({
    ...urlOptions(redisUrl()),
    connectTimeout: 5_000,
    maxRetriesPerRequest: 1,
    ...options,
  })
  registerCleanup(() => close(client))
  return client
}

/**
 * A Cluster client on the shared cluster (or `nodes`), quit when the test (or file) ends.
 * `ClusterClass` is ioredis 5's `Cluster` unless given another major's (setup/ioredis6.ts).
 */
export function createClusterClient(
  options: ClusterOptions = {},
  nodes: ClusterNode[] = clusterNodes(),
  ClusterClass: typeof Cluster = Cluster
): Cluster {
  const client = new ClusterClass(nodes, { redisOptions: { connectTimeout: 5_000 }, ...options })
  registerCleanup(() => close(client))
  return client
}

const GLOB_SPECIALS = /[*?[\]\\]/g

/**
 * Deletes every key that starts with `prefix` (SCAN + UNLINK, never KEYS or FLUSH), on a Redis or
 * on every master of a Cluster. Returns how many keys were removed.
 */
export async function deleteKeysWithPrefix(
  client: Redis | Cluster,
  prefix: string
): Promise<number> {
  const match = `${prefix.replace(GLOB_SPECIALS, '\\$&')}*`
  // isCluster, not instanceof: an ioredis 6 Cluster (setup/ioredis6.ts) is no instance of 5's class.
  const nodes = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
  let deleted = 0
  for (const node of nodes) {
    for await (const keys of node.scanStream({ match, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length === 0) continue
      // On a cluster node, a multi-key UNLINK fails across slots: one UNLINK per key, pipelined.
      const pipeline = node.pipeline()
      for (const key of keys) pipeline.unlink(key)
      const results = (await pipeline.exec()) ?? []
      deleted += results.reduce((sum, [, count]) => sum + (Number(count) || 0), 0)
    }
  }
  return deleted
}

/**
 * A cluster for this file alone, for tests that change the topology (failover, killing a node)
 * and so must not touch the shared one. Started in beforeAll, stopped in afterAll; `nodes` is
 * filled in by beforeAll. Pick a base port no other file uses (the shared cluster is on 7100).
 *
 * @example
 * ```ts
 * const cluster = usePrivateCluster(7200)
 * it('keeps serving through a failover', async () => {
 *   const client = createClusterClient({}, cluster.nodes)
 * })
 * ```
 */
export function usePrivateCluster(basePort: number): { nodes: ClusterNode[] } {
  const handle: { nodes: ClusterNode[] } = { nodes: [] }
  beforeAll(async () => {
    handle.nodes = await startCluster(basePort)
  }, 150_000)
  afterAll(async () => {
    await stopCluster(basePort)
  }, 60_000)
  return handle
}
