import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import type { Redis } from 'ioredis'
import {
  createClient,
  deleteKeysWithPrefix,
  describeRedis,
  redisUrl,
  uniquePrefix,
} from '../setup/redis.js'

const workerPath = fileURLToPath(new URL('./fixtures/tiered-worker.mjs', import.meta.url))

interface Instance {
  child: ChildProcess
  call(op: string, args?: Record<string, unknown>): Promise<unknown>
}

async function startInstance(prefix: string): Promise<Instance> {
  const child = fork(workerPath, [], {
    env: { ...process.env, REDIS_URL: redisUrl(), PREFIX: prefix },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  await once(child, 'message')
  let next = 0
  const pending = new Map<number, (value: unknown) => void>()
  child.on('message', (message: { id?: number; result?: unknown }) => {
    if (message.id !== undefined) pending.get(message.id)?.(message.result)
  })
  return {
    child,
    call: (op, args = {}) =>
      new Promise((resolve) => {
        const id = next++
        pending.set(id, resolve)
        child.send({ id, op, ...args })
      }),
  }
}

describeRedis('two processes sharing one Redis through TieredStore', () => {
  const prefix = uniquePrefix('tiered-processes')
  let a: Instance
  let b: Instance
  let redis: Redis

  beforeAll(async () => {
    redis = createClient()
    ;[a, b] = await Promise.all([startInstance(prefix), startInstance(prefix)])
  })
  afterAll(async () => {
    for (const instance of [a, b]) {
      const exited = once(instance.child, 'exit')
      instance.child.send({ op: 'exit' })
      await exited
    }
    await deleteKeysWithPrefix(redis, prefix)
  })

  it("a tag invalidation on one process evicts the other's L1 copy within a bounded time", async () => {
    await a.call('set', { key: 'product:1', value: { price: 10 }, tags: ['products'] })
    // a's own "keys" message for that set may reach b after b's first read and drop its copy: read until b holds one.
    await vi.waitFor(
      async () => {
        expect(await b.call('get', { key: 'product:1' })).toEqual({ price: 10 })
        expect(await b.call('l1', { key: 'product:1' })).toBe(true)
      },
      { timeout: 5000, interval: 50 }
    )
    const started = performance.now()
    expect(await a.call('invalidateTags', { tags: ['products'] })).toEqual({
      status: 'applied',
      removed: 1,
    })
    await vi.waitFor(async () => expect(await b.call('l1', { key: 'product:1' })).toBe(false), {
      timeout: 1000,
      interval: 5,
    })
    expect(performance.now() - started).toBeLessThan(1000)
    expect(await b.call('get', { key: 'product:1' })).toBeNull()
  })

  it("an overwrite on one process replaces the other's L1 copy", async () => {
    await a.call('set', { key: 'config', value: 1 })
    expect(await b.call('get', { key: 'config' })).toBe(1)
    await a.call('set', { key: 'config', value: 2 })
    await vi.waitFor(async () => expect(await b.call('get', { key: 'config' })).toBe(2), {
      timeout: 1000,
      interval: 5,
    })
  })

  it('a cold key missed by both processes at once runs the loader once (fill lock)', async () => {
    const [fromA, fromB] = await Promise.all([
      a.call('wrap', { key: 'cold' }),
      b.call('wrap', { key: 'cold' }),
    ])
    expect(fromA).toEqual(fromB)
    expect(await redis.get(`${prefix}loader-runs`)).toBe('1')
  })
})
