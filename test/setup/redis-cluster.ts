/**
 * Node-side control of the local Redis Cluster, a thin wrapper over scripts/redis-cluster.sh so
 * that the shell script stays the one place that knows how nodes start and stop (by PID).
 *
 * globalSetup uses it for the shared cluster (base port 7100). A test that changes the topology
 * (failover, killing a master) must not do that to the shared cluster, which other files use in
 * parallel: it starts its own with `usePrivateCluster(<a base port of its own>)` from ./redis.ts.
 * (No vitest import here: globalSetup loads this file outside any test worker.)
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { ClusterNode } from './provided.js'

const run = promisify(execFile)

export const CLUSTER_SCRIPT: string = fileURLToPath(
  new URL('../../scripts/redis-cluster.sh', import.meta.url)
)

/** Base port of the shared cluster. Override with REDIS_CLUSTER_BASE_PORT. @default 7100 */
export const DEFAULT_CLUSTER_BASE_PORT: number = Number(process.env.REDIS_CLUSTER_BASE_PORT ?? 7100)

/**
 * A base port for a file's private cluster, `offset` (10, 20, …) above this run's shared cluster,
 * so that worktrees that each export their own REDIS_CLUSTER_BASE_PORT never share one.
 */
export function privateClusterBasePort(offset: number): number {
  return DEFAULT_CLUSTER_BASE_PORT + offset
}

async function script(command: 'start' | 'stop' | 'status', basePort: number): Promise<string> {
  // The script waits up to ~80 s in the worst case (create + sync); leave it room, then give up.
  const { stdout } = await run('bash', [CLUSTER_SCRIPT, command, String(basePort)], {
    timeout: 150_000,
  })
  return stdout
}

function toNodes(stdout: string): ClusterNode[] {
  return stdout
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((port) => ({ host: '127.0.0.1', port: Number(port) }))
}

/** Starts (or finds healthy) the cluster on basePort..basePort+5; rejects with the script's stderr. */
export async function startCluster(
  basePort: number = DEFAULT_CLUSTER_BASE_PORT
): Promise<ClusterNode[]> {
  return toNodes(await script('start', basePort))
}

export async function stopCluster(basePort: number = DEFAULT_CLUSTER_BASE_PORT): Promise<void> {
  await script('stop', basePort)
}

/** The nodes when the cluster is up and healthy, else null. */
export async function clusterStatus(
  basePort: number = DEFAULT_CLUSTER_BASE_PORT
): Promise<ClusterNode[] | null> {
  try {
    return toNodes(await script('status', basePort))
  } catch {
    return null
  }
}
