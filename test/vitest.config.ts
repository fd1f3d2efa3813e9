import { defineProject } from 'vitest/config'

/**
 * The cross-package suite: conformance, real Redis and Redis Cluster, faults, security, packaging.
 *
 * Files run in parallel against one Redis and one shared cluster; they stay apart by key prefix
 * (setup/redis.ts uniquePrefix), never by FLUSH. A file that changes the cluster's topology starts
 * a private cluster on its own ports (setup/redis.ts usePrivateCluster) instead of going serial.
 */
export default defineProject({
  test: {
    name: 'integration',
    include: ['**/*.test.ts'],
    // Real servers, a real cluster and fault injection take seconds, not milliseconds.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Probes Redis, starts the cluster, and provides both to tests (inject('redis'|'redisCluster')).
    globalSetup: ['./setup/global-setup.ts'],
    // Registers the file-level afterAll that closes what helpers opened outside a test.
    setupFiles: ['./setup/cleanup.ts'],
  },
})
