/**
 * What the integration project's globalSetup hands to test files through vitest's
 * `project.provide()` / `inject()`. Values cross a process boundary, so they are plain JSON.
 */

/** The standalone Redis at REDIS_URL, probed once per run. */
export interface RedisProbe {
  url: string
  ok: boolean
  /** Why it is not usable, when `ok` is false. */
  reason?: string
}

export interface ClusterNode {
  host: string
  port: number
}

/** The Redis Cluster the run uses: started by scripts/redis-cluster.sh, or REDIS_CLUSTER_PORTS. */
export interface ClusterProbe {
  ok: boolean
  /** Seed nodes (all six), for `new Cluster(nodes)`. Empty when `ok` is false. */
  nodes: ClusterNode[]
  reason?: string
  /** True when this run started the cluster and so stops it at teardown. */
  startedHere: boolean
}

declare module 'vitest' {
  export interface ProvidedContext {
    redis: RedisProbe
    redisCluster: ClusterProbe
  }
}
