/**
 * globalSetup of the `integration` project: runs once per `vitest run`, in the main process.
 * It probes the standalone Redis and brings up the 6-node Redis Cluster, and hands both results to
 * the test files (`inject('redis')`, `inject('redisCluster')`). It never throws for a missing
 * Redis: the describeRedis/describeCluster helpers decide per file whether that skips or, under
 * CI=true, fails — so one missing service does not hide every other test's result.
 */
import { Redis } from 'ioredis'
import type { TestProject } from 'vitest/node'
import {
  DEFAULT_CLUSTER_BASE_PORT,
  clusterStatus,
  startCluster,
  stopCluster,
} from './redis-cluster.js'
import type { ClusterNode, ClusterProbe, RedisProbe } from './provided.js'

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

function banner(lines: string[]): void {
  const bar = '!'.repeat(78)
  process.stderr.write(`\n${bar}\n${lines.map((l) => `!! ${l}`).join('\n')}\n${bar}\n\n`)
}

function describeError(error: unknown): string {
  const e = error as { message?: string; stderr?: string }
  return (e.stderr?.trim().split('\n').slice(-5).join(' | ') || e.message) ?? String(error)
}

/** PING over one short-lived connection: no retries, so a dead Redis answers in ~2 s, not never. */
async function ping(options: { url?: string; host?: string; port?: number }): Promise<void> {
  const settings = {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  }
  const client = options.url
    ? new Redis(options.url, settings)
    : new Redis({ ...settings, host: options.host, port: options.port })
  // With retries off, connect() rejects with a bare "Connection is closed."; the 'error' event
  // has the cause worth printing (ECONNREFUSED, NOAUTH, ...).
  let cause: unknown
  client.on('error', (error: unknown) => (cause ??= error))
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    throw cause ?? error
  } finally {
    client.disconnect()
  }
}

async function probeRedis(): Promise<RedisProbe> {
  const url = process.env.REDIS_URL || DEFAULT_REDIS_URL
  try {
    await ping({ url })
    return { url, ok: true }
  } catch (error) {
    return {
      url,
      ok: false,
      reason: `Redis at ${url} did not answer PING: ${describeError(error)}`,
    }
  }
}

/** REDIS_CLUSTER_PORTS="7000,7001,..." points the tests at a cluster someone else runs. */
function externalNodes(): ClusterNode[] | null {
  const ports = process.env.REDIS_CLUSTER_PORTS?.split(/[\s,]+/).filter(Boolean)
  if (!ports?.length) return null
  return ports.map((port) => ({ host: '127.0.0.1', port: Number(port) }))
}

async function setUpCluster(): Promise<ClusterProbe> {
  const external = externalNodes()
  if (external) {
    try {
      await ping(external[0]!)
      return { ok: true, nodes: external, startedHere: false }
    } catch (error) {
      const reason = `REDIS_CLUSTER_PORTS is set but 127.0.0.1:${external[0]!.port} did not answer: ${describeError(error)}`
      return { ok: false, nodes: [], reason, startedHere: false }
    }
  }
  // Someone (a developer, an earlier run) left a healthy cluster up: use it and leave it up.
  const running = await clusterStatus()
  if (running) return { ok: true, nodes: running, startedHere: false }
  try {
    return { ok: true, nodes: await startCluster(), startedHere: true }
  } catch (error) {
    // Half-started nodes are ours (the script only ever stops its own PIDs): clean them up.
    await stopCluster().catch(() => {})
    const reason = `scripts/redis-cluster.sh start ${DEFAULT_CLUSTER_BASE_PORT} failed: ${describeError(error)}`
    return { ok: false, nodes: [], reason, startedHere: false }
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [redis, cluster] = await Promise.all([probeRedis(), setUpCluster()])
  project.provide('redis', redis)
  project.provide('redisCluster', cluster)

  const missing = [redis.reason, cluster.reason].filter((r): r is string => r !== undefined)
  if (missing.length > 0) {
    const verdict =
      process.env.CI === 'true' ? 'CI=true: these tests will FAIL.' : 'These tests will be SKIPPED.'
    banner(['Redis integration tests cannot run:', ...missing, verdict])
  }

  return async function teardown() {
    if (cluster.startedHere) await stopCluster()
  }
}
