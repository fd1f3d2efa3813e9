import assert from 'node:assert/strict'
import { Cache } from './cache.js'
import { InvalidOptionError } from './errors.js'
import { rejectUnknownOptions } from './known-options.js'
import type { PendingWrite } from './patterns/write-behind.js'
import type { Store } from './types.js'
import type { ContractRunner } from './testing-runner.js'
import { defineDataContract, type StoreCapabilities } from './testing-data.js'

export type { StoreCapabilities } from './testing-data.js'
export type { ContractRunner } from './testing-runner.js'

export interface StoreContractOptions {
  /** Shown in the test names. */
  name: string
  /** A fresh, empty store. Called once per test. */
  create: () => Store | Promise<Store>
  /**
   * A second store over the same backing data as the last one `create` returned (another process
   * sharing one Redis). Omit for stores that cannot be shared; cross-instance cases are then not defined.
   */
  createPeer?: (() => Store | Promise<Store>) | undefined
  /** Cleans up after each test (delete keys, quit clients). */
  cleanup?: (() => void | Promise<void>) | undefined
  /** Where the cases are registered: `{ describe, it, beforeEach, afterEach }` of your test framework. */
  runner: ContractRunner
  /** Optional methods the store has (`setIf`, `hitWindow`, …): their cases run only when declared. @default none */
  capabilities?: StoreCapabilities | undefined
}

const CONTRACT_OPTIONS = [
  'name',
  'create',
  'createPeer',
  'cleanup',
  'runner',
  'capabilities',
] as const

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `read` until it resolves `expected` (deep-equal) or `timeoutMs` passes: for writes done in the background. */
async function eventually(
  read: () => Promise<unknown>,
  expected: unknown,
  timeoutMs = 2000
): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const actual = await read()
    try {
      assert.deepEqual(actual, expected)
      return
    } catch (error) {
      if (Date.now() > until) throw error
    }
    await sleep(10)
  }
}

/** The stored bytes, failing the case when there are none. */
function bytesOf(value: Uint8Array | undefined): Buffer {
  assert.notEqual(value, undefined, 'expected a stored value')
  return Buffer.from(value as Uint8Array)
}

function textOf(value: Uint8Array | undefined): string {
  return bytesOf(value).toString()
}

/**
 * The behaviour every `Store` must have, written once and run against each implementation
 * (memory, Redis, Redis Cluster, or a store of your own), through the raw contract and the
 * `Cache` facade on top of it. It asserts with `node:assert/strict` and registers its cases
 * through the `runner` you pass, so it works under any test framework and depends on none.
 *
 * @example
 * ```ts
 * // vitest (jest and mocha: the same four globals)
 * import { afterEach, beforeEach, describe, it } from 'vitest'
 * import { MemoryStore } from '@cachewire/core'
 * import { defineStoreContract } from '@cachewire/core/testing'
 *
 * defineStoreContract({ name: 'MemoryStore', create: () => new MemoryStore(), runner: { describe, it, beforeEach, afterEach } })
 * ```
 *
 * @example
 * ```js
 * // node:test, from CommonJS
 * const { describe, it } = require('node:test')
 * const { MemoryStore } = require('@cachewire/core')
 * const { defineStoreContract } = require('@cachewire/core/testing')
 *
 * defineStoreContract({ name: 'MemoryStore', create: () => new MemoryStore(), runner: { describe, it } })
 * ```
 */
export function defineStoreContract(options: StoreContractOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('', 'an options object', options)
  rejectUnknownOptions(options, CONTRACT_OPTIONS, '')
  const { runner, createPeer } = options
  if (typeof options.name !== 'string')
    throw new InvalidOptionError('name', 'a string', options.name)
  if (typeof options.create !== 'function')
    throw new InvalidOptionError('create', 'a function returning a Store', options.create)
  if (createPeer !== undefined && typeof createPeer !== 'function')
    throw new InvalidOptionError('createPeer', 'a function returning a Store', createPeer)
  if (options.cleanup !== undefined && typeof options.cleanup !== 'function')
    throw new InvalidOptionError('cleanup', 'a function', options.cleanup)
  // The runner is a handle on a test framework, not settings: other keys are ignored, so a whole
  // module namespace (`import * as vitest from 'vitest'`) may be passed.
  if (typeof runner?.describe !== 'function' || typeof runner.it !== 'function') {
    throw new InvalidOptionError(
      'runner',
      'an object with the describe and it functions of your test framework',
      runner
    )
  }
  const { beforeEach, afterEach } = runner
  const hooks = typeof beforeEach === 'function' && typeof afterEach === 'function'

  let store: Store
  let cache: Cache
  const setUp = async (): Promise<void> => {
    store = await options.create()
    cache = new Cache({ store })
  }
  const tearDown = async (): Promise<void> => {
    await options.cleanup?.()
  }
  /** One case: with hooks, the framework sets up and tears down; without, the case does. */
  const test = (name: string, body: () => Promise<void>): void => {
    if (hooks) {
      runner.it(name, body)
      return
    }
    runner.it(name, async () => {
      await setUp()
      try {
        await body()
      } finally {
        await tearDown()
      }
    })
  }

  runner.describe(`Store contract: ${options.name}`, () => {
    if (hooks) {
      beforeEach(setUp)
      afterEach(tearDown)
    }

    runner.describe('get and set', () => {
      test('round-trips every byte value unchanged', async () => {
        const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
        await store.set('bytes', bytes, { ttlMs: 10_000 })
        assert.deepEqual(bytesOf(await store.get('bytes')), bytes)
      })

      test('answers undefined for an absent key', async () => {
        assert.equal(await store.get('absent'), undefined)
        assert.equal(await store.has('absent'), false)
      })

      test('overwrites an existing value', async () => {
        await store.set('k', Buffer.from('one'), { ttlMs: 10_000 })
        await store.set('k', Buffer.from('two'), { ttlMs: 10_000 })
        assert.equal(textOf(await store.get('k')), 'two')
      })

      // TTLs here are long enough that a loaded machine cannot let them lapse between two awaits,
      // and expiry is polled for rather than assumed after a fixed sleep.
      test('expires a value after its TTL', async () => {
        await store.set('short', Buffer.from('x'), { ttlMs: 1000 })
        assert.equal(await store.has('short'), true)
        await eventually(() => store.get('short'), undefined, 10_000)
        assert.equal(await store.has('short'), false)
      })

      test('deletes one key and reports whether it existed', async () => {
        await store.set('gone', Buffer.from('x'), { ttlMs: 10_000 })
        assert.equal(await store.delete('gone'), true)
        assert.equal(await store.delete('gone'), false)
        assert.equal(await store.get('gone'), undefined)
      })

      test('keeps keys with glob and separator characters distinct', async () => {
        await store.set('a*b', Buffer.from('1'), { ttlMs: 10_000 })
        await store.set('a:b', Buffer.from('2'), { ttlMs: 10_000 })
        await store.set('a[b]', Buffer.from('3'), { ttlMs: 10_000 })
        assert.equal(textOf(await store.get('a*b')), '1')
        assert.equal(textOf(await store.get('a[b]')), '3')
      })
    })

    runner.describe('tags', () => {
      test('invalidates every key under a tag and nothing else', async () => {
        await store.set('u1', Buffer.from('1'), { ttlMs: 10_000, tags: ['users'] })
        await store.set('u2', Buffer.from('2'), { ttlMs: 10_000, tags: ['users', 'admins'] })
        await store.set('p1', Buffer.from('3'), { ttlMs: 10_000, tags: ['posts'] })
        assert.equal(await store.invalidateTags(['users']), 2)
        assert.equal(await store.get('u1'), undefined)
        assert.equal(await store.get('u2'), undefined)
        assert.notEqual(await store.get('p1'), undefined)
        assert.equal(await store.invalidateTags(['users']), 0)
      })

      test('invalidates several tags at once, counting each key once', async () => {
        await store.set('a', Buffer.from('1'), { ttlMs: 10_000, tags: ['t1', 't2'] })
        await store.set('b', Buffer.from('2'), { ttlMs: 10_000, tags: ['t2'] })
        assert.equal(await store.invalidateTags(['t1', 't2']), 2)
      })

      test('re-files a key that is set again after its tag was invalidated', async () => {
        await store.set('a', Buffer.from('1'), { ttlMs: 10_000, tags: ['t'] })
        await store.invalidateTags(['t'])
        await store.set('a', Buffer.from('2'), { ttlMs: 10_000, tags: ['t'] })
        assert.equal(await store.invalidateTags(['t']), 1)
        assert.equal(await store.get('a'), undefined)
      })
    })

    runner.describe('deletePattern', () => {
      test('removes only the keys the glob matches', async () => {
        await store.set('user:1', Buffer.from('1'), { ttlMs: 10_000 })
        await store.set('user:2', Buffer.from('2'), { ttlMs: 10_000 })
        await store.set('post:1', Buffer.from('3'), { ttlMs: 10_000 })
        assert.equal(await store.deletePattern('user:*'), 2)
        assert.equal(await store.get('user:1'), undefined)
        assert.notEqual(await store.get('post:1'), undefined)
      })

      test('matches many keys spread over the keyspace', async () => {
        await Promise.all(
          Array.from({ length: 300 }, (_, i) =>
            store.set(`many:${i}`, Buffer.from('x'), { ttlMs: 10_000 })
          )
        )
        assert.equal(await store.deletePattern('many:*'), 300)
      })
    })

    runner.describe('increment', () => {
      test('counts atomically under concurrency', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.increment('hits', 1, 10_000))
        )
        assert.equal(Math.max(...results), 50)
        assert.equal(new Set(results).size, 50)
      })

      test('gives a new counter its TTL and keeps it on later increments', async () => {
        assert.equal(await store.increment('window', 5, 1000), 5)
        assert.equal(await store.increment('window', -2, 100_000), 3)
        // Gone within seconds: the later increment's 100 s TTL did not replace the first one.
        await eventually(() => store.get('window'), undefined, 10_000)
      })
    })

    runner.describe('addToBoundedSet (when the store has it)', () => {
      test('never lets concurrent adds push the set past its cap', async () => {
        if (store.addToBoundedSet === undefined) return
        const add = store.addToBoundedSet.bind(store)
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => add('variants', `m${i}`, 8, 10_000))
        )
        assert.equal(results.filter((result) => result.added).length, 8)
        assert.ok(results.every((result) => result.size <= 8 && result.member === result.added))
        const again = await add('variants', 'm-late', 8, 10_000)
        assert.deepEqual(again, { added: false, member: false, size: 8 })
      })

      test('accepts a member already in a full set and renews it', async () => {
        if (store.addToBoundedSet === undefined) return
        assert.deepEqual(await store.addToBoundedSet('set', 'a', 1, 10_000), {
          added: true,
          member: true,
          size: 1,
        })
        assert.deepEqual(await store.addToBoundedSet('set', 'a', 1, 10_000), {
          added: false,
          member: true,
          size: 1,
        })
        assert.deepEqual(await store.addToBoundedSet('set', 'b', 1, 10_000), {
          added: false,
          member: false,
          size: 1,
        })
      })

      test('frees the place of a member whose lifetime ran out', async () => {
        if (store.addToBoundedSet === undefined) return
        await store.addToBoundedSet('short', 'old', 1, 60)
        await sleep(150)
        assert.deepEqual(await store.addToBoundedSet('short', 'new', 1, 10_000), {
          added: true,
          member: true,
          size: 1,
        })
      })
    })

    runner.describe('clear', () => {
      test('removes every key the store owns', async () => {
        await store.set('a', Buffer.from('1'), { ttlMs: 10_000, tags: ['t'] })
        await store.set('b', Buffer.from('2'), { ttlMs: 10_000 })
        await store.clear()
        assert.equal(await store.get('a'), undefined)
        assert.equal(await store.get('b'), undefined)
      })
    })

    runner.describe('through the Cache facade', () => {
      test('round-trips JSON values and bytes', async () => {
        await cache.set('json', { a: 1, list: [1, 'two', null] })
        await cache.set('buf', Buffer.from([0, 1, 2, 255]))
        assert.deepEqual(await cache.get('json'), { a: 1, list: [1, 'two', null] })
        assert.deepEqual(await cache.get('buf'), Buffer.from([0, 1, 2, 255]))
      })

      test('reads a counter as a number', async () => {
        await cache.increment('count', 3, { ttl: '1m' })
        assert.equal(await cache.get('count'), 3)
      })

      test('says an invalidation was applied, with what the store removed', async () => {
        await cache.set('a', 1, { tags: ['t'] })
        await cache.set('b', 2, { tags: ['t'] })
        assert.deepEqual(await cache.invalidateTags(['t']), { status: 'applied', removed: 2 })
        assert.deepEqual(await cache.delete('a'), { status: 'applied', removed: 0 })
        await cache.set('c', 3)
        assert.deepEqual(await cache.delete('c'), { status: 'applied', removed: 1 })
        assert.equal((await cache.clear()).status, 'applied')
      })

      test('invalidates a namespace without touching other keys', async () => {
        const users = cache.namespace('users')
        await users.set('1', 'ada')
        await cache.set('1', 'root')
        assert.equal(await users.get('1'), 'ada')
        await users.invalidate()
        assert.equal(await users.get('1'), undefined)
        assert.equal(await cache.get('1'), 'root')
        await users.set('1', 'grace')
        assert.equal(await users.get('1'), 'grace')
      })

      test('runs the loader once for 1,000 concurrent wrap callers of a cold key', async () => {
        let calls = 0
        const loader = async (): Promise<{ n: number }> => {
          calls++
          await sleep(20)
          return { n: 42 }
        }
        const results = await Promise.all(
          Array.from({ length: 1000 }, () => cache.wrap('cold', loader, { ttl: '1m' }))
        )
        assert.equal(calls, 1)
        assert.ok(results.every((r) => r.n === 42))
        // The loader's value is stored in the background: on a loaded machine that takes a moment.
        await eventually(() => cache.get('cold'), { n: 42 })
      })

      test('persists every acknowledged write-behind write after close()', async () => {
        const persisted = new Map<string, number>()
        const writer = cache.writeBehind<number>({
          persist: async (batch: ReadonlyArray<PendingWrite<number>>) => {
            for (const write of batch) persisted.set(write.key, write.value)
          },
          batchSize: 25,
          flushOnSignals: false,
        })
        await Promise.all(Array.from({ length: 200 }, (_, i) => writer.write(`wb:${i}`, i)))
        assert.equal(await cache.get('wb:7'), 7)
        await writer.close()
        assert.equal(persisted.size, 200)
        assert.equal(persisted.get('wb:199'), 199)
        const { queued, persisted: persistedCount, failed } = writer.stats()
        assert.deepEqual(
          { queued, persisted: persistedCount, failed },
          { queued: 0, persisted: 200, failed: 0 }
        )
      })
    })

    defineDataContract({
      test,
      runner,
      store: () => store,
      cache: () => cache,
      capabilities: options.capabilities ?? {},
    })

    // A store that cannot be shared has no peer: these cases are not defined for it.
    if (createPeer !== undefined)
      runner.describe('shared between instances', () => {
        test('sees values and tag invalidations made by another instance', async () => {
          const peer = await createPeer()
          try {
            await store.set('shared', Buffer.from('1'), { ttlMs: 10_000, tags: ['shared-tag'] })
            assert.notEqual(await peer.get('shared'), undefined)
            assert.equal(await peer.invalidateTags(['shared-tag']), 1)
            assert.equal(await store.get('shared'), undefined)
          } finally {
            await peer.close?.()
          }
        })

        test('invalidates a namespace for every instance', async () => {
          const peer = new Cache({ store: await createPeer() })
          try {
            await cache.namespace('ns').set('k', 'v')
            assert.equal(await peer.namespace('ns').get('k'), 'v')
            await peer.namespace('ns').invalidate()
            assert.equal(await cache.namespace('ns').get('k'), undefined)
          } finally {
            await peer.close()
          }
        })
      })
  })
}
