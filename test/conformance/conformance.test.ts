/**
 * The conformance suite on Express 4, Express 5, Koa 2 and Koa 3, each on the in-memory store
 * and on a real Redis (a unique key prefix per scenario, deleted afterwards).
 */
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe } from 'vitest'
import { MemoryStore } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { createClient, deleteKeysWithPrefix, describeRedis, uniquePrefix } from '../setup/redis.js'
import { ADAPTERS } from './adapters.js'
import { SCENARIOS } from './scenarios.js'
import { defineConformanceSuite } from './suite.js'

for (const adapter of ADAPTERS) {
  describe(`${adapter.name} on MemoryStore`, () => {
    defineConformanceSuite(SCENARIOS, { adapter, createStore: () => new MemoryStore() })
  })
}

describeRedis('on RedisStore', () => {
  let client: Redis
  const prefixes: string[] = []
  beforeAll(() => {
    client = createClient()
  })
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysWithPrefix(client, prefix)
  })

  for (const adapter of ADAPTERS) {
    describe(`${adapter.name} on RedisStore`, () => {
      defineConformanceSuite(SCENARIOS, {
        adapter,
        createStore: () => {
          const prefix = uniquePrefix(`conformance-${adapter.name}`)
          prefixes.push(prefix)
          // A generous deadline: a busy test machine must not turn a slow Redis answer into a miss.
          return new RedisStore({ client, prefix, timeout: '2s' })
        },
      })
    })
  }
})
