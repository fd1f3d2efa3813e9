import assert from 'node:assert/strict'
import { Cache } from './cache.js'
import { SerializationError } from './errors.js'
import { jsonSerializer } from './serializers.js'
import { rateLimit } from './patterns/rate-limit.js'
import type { ContractRunner } from './testing-runner.js'
import type { Store } from './types.js'

/**
 * Optional store methods a store may legitimately lack. A case for one is defined only when the
 * store declares it: a store that cannot do something is not failed for it, and a store that says
 * it can is held to it.
 */
export interface StoreCapabilities {
  /** `setIf` (SET NX / XX): `Cache.add` and `Cache.replace`. */
  conditionalSet?: boolean | undefined
  /** `hitWindow`: `rateLimit`, atomic across callers. */
  rateWindows?: boolean | undefined
  /** `ttl` (or `getWithTtl`): `Cache.ttl` and `Cache.getWithMeta` tell the remaining lifetime. */
  ttl?: boolean | undefined
  /** `measure` or `size`: `Cache.measure()` counts entries. */
  measure?: boolean | undefined
  /** `oldestAndNewest` and `cleanupExpired` (an in-process store). */
  entryAges?: boolean | undefined
}

export interface DataContractContext {
  test: (name: string, body: () => Promise<void>) => void
  runner: ContractRunner
  store: () => Store
  cache: () => Cache
  capabilities: StoreCapabilities
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The data-cache cases of the store contract (issue 16): what applications rely on, through the `Cache`. */
export function defineDataContract({
  test,
  runner,
  store,
  cache,
  capabilities,
}: DataContractContext): void {
  runner.describe('values', () => {
    test('round-trips Date, Map, Set, BigInt, Buffer and typed arrays with the default serializer', async () => {
      const value = {
        at: new Date(1_700_000_000_000),
        byId: new Map([[1, 'a']]),
        ids: new Set([1, 2]),
        big: 2n ** 70n,
        buf: Buffer.from([0, 255]),
        floats: new Float64Array([1.5, -2]),
        nested: [{ when: new Date(0) }],
      }
      await cache().set('rich', value)
      assert.deepEqual(await cache().get('rich'), value)
    })

    test('keeps plain data readable as JSON in the store', async () => {
      await cache().set('plain', { a: 1, list: ['x'] })
      assert.equal(
        Buffer.from((await store().get('plain')) as Uint8Array).toString(),
        '{"a":1,"list":["x"]}'
      )
    })

    test('the JSON serializer refuses a lossy value instead of storing it', async () => {
      const strict = new Cache({ store: store(), breaker: false, serializer: jsonSerializer })
      await assert.rejects(
        strict.set('lossy', { at: new Date() }),
        (error: unknown) => error instanceof SerializationError && error.path === 'value.at'
      )
      assert.equal(await store().get('lossy'), undefined)
      // What another serializer wrote still reads.
      await cache().set('rich', new Set([1]))
      assert.deepEqual(await strict.get('rich'), new Set([1]))
    })
  })

  runner.describe('strict reads on a healthy store', () => {
    test('answer absent as absent, and present as present', async () => {
      await cache().set('here', 1)
      assert.equal(await cache().get('absent', { strict: true }), undefined)
      assert.equal(await cache().has('absent', { strict: true }), false)
      assert.equal(await cache().get('here', { strict: true }), 1)
      assert.equal(await cache().has('here', { strict: true }), true)
      assert.equal(await cache().ttl('absent', { strict: true }), undefined)
      assert.equal((await cache().getWithMeta('here', { strict: true }))?.value, 1)
    })
  })

  runner.describe('namespaces', () => {
    test('invalidating a namespace invalidates its nested namespaces and counts what went', async () => {
      const users = cache().namespace('users')
      const admins = users.namespace('admins')
      await users.set('1', 'ada')
      await admins.set('2', 'grace')
      await admins.set('3', 'linus')
      await cache().set('1', 'root')
      assert.deepEqual(await users.invalidate(), { status: 'applied', removed: 3 })
      assert.equal(await users.get('1'), undefined)
      assert.equal(await admins.get('2'), undefined)
      assert.equal(await cache().get('1'), 'root')
      await admins.set('2', 'again')
      assert.equal(await admins.get('2'), 'again')
    })

    test('a namespace carries its own default TTL, inherited by nested ones', async () => {
      const short = cache().namespace('short', { defaultTtl: '1s' })
      await short.namespace('inner').set('k', 1)
      await short.set('k', 1)
      await sleep(1300)
      assert.equal(await short.get('k'), undefined)
      assert.equal(await short.namespace('inner').get('k'), undefined)
    })
  })

  runner.describe('cache-aside', () => {
    test('counts callers that join an in-flight load as hits', async () => {
      const before = cache().stats()
      await Promise.all(
        Array.from({ length: 20 }, () =>
          cache().wrap('joined', async () => (await sleep(20), 1), { ttl: '1m' })
        )
      )
      const after = cache().stats()
      assert.equal(after.misses - before.misses, 1)
      assert.equal(after.hits - before.hits, 19)
    })

    test('serves the stale value when the refresh fails, within the grace period', async () => {
      let fail = false
      const load = async (): Promise<number> => {
        if (fail) throw new Error('source down')
        return 1
      }
      assert.equal(await cache().wrap('graced', load, { ttl: '1s', grace: '1m' }), 1)
      await sleep(1100)
      fail = true
      assert.equal(await cache().get('graced'), undefined)
      assert.equal(await cache().wrap('graced', load, { ttl: '1s', grace: '1m' }), 1)
      assert.equal((await cache().getWithMeta('graced'))?.stale, true)
    })

    test('keys cached() calls by function and arguments, stably', async () => {
      let calls = 0
      const find = cache().cached(async function find(id: number, at: Date) {
        calls++
        return { id, at }
      })
      await find(1, new Date(0))
      assert.deepEqual(await find(1, new Date(0)), { id: 1, at: new Date(0) })
      await find(2, new Date(0))
      assert.equal(calls, 2)
    })
  })

  if (capabilities.conditionalSet === true)
    runner.describe('add and replace (setIf)', () => {
      test('add writes only an absent key, replace only a present one', async () => {
        assert.equal(await cache().replace('k', 1), false)
        assert.equal(await cache().get('k'), undefined)
        assert.equal(await cache().add('k', 1), true)
        assert.equal(await cache().add('k', 2), false)
        assert.equal(await cache().replace('k', 3), true)
        assert.equal(await cache().get('k'), 3)
      })

      test('exactly one of 50 concurrent adds wins', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => cache().add('race', i))
        )
        assert.equal(results.filter(Boolean).length, 1)
      })
    })

  if (capabilities.rateWindows === true)
    runner.describe('rate windows (hitWindow)', () => {
      for (const algorithm of ['fixed', 'sliding'] as const) {
        test(`${algorithm}: lets exactly the limit through under concurrency, with the fields`, async () => {
          const limiter = rateLimit(cache(), {
            limit: 10,
            window: '1h',
            algorithm,
            name: `contract-${algorithm}`,
          })
          const decisions = await Promise.all(
            Array.from({ length: 25 }, () => limiter.check('client-1'))
          )
          assert.equal(decisions.filter((d) => d.allowed).length, 10)
          const refused = decisions.find((d) => !d.allowed)
          assert.ok(
            refused !== undefined &&
              refused.retryAfterSeconds !== undefined &&
              refused.retryAfterSeconds > 0
          )
          assert.match(
            String(refused.fields.RateLimit),
            new RegExp(`^"contract-${algorithm}";r=0;t=\\d+$`)
          )
          assert.equal(refused.fields['RateLimit-Policy'], `"contract-${algorithm}";q=10;w=3600`)
          assert.equal((await limiter.check('client-2')).remaining, 9)
        })
      }
    })

  if (capabilities.ttl === true)
    runner.describe('ttl and getWithMeta', () => {
      test('tell the remaining lifetime', async () => {
        await cache().set('k', 'v', { ttl: '1m' })
        const ttl = (await cache().ttl('k')) as number
        assert.ok(ttl > 50_000 && ttl <= 60_000, `ttl ${ttl}`)
        const meta = await cache().getWithMeta('k')
        assert.ok(meta !== undefined && meta.value === 'v' && !meta.stale && meta.ttlMs > 50_000)
        assert.equal(await cache().ttl('absent'), undefined)
      })
    })

  if (capabilities.measure === true)
    runner.describe('measure', () => {
      test('counts the entries held', async () => {
        await Promise.all(Array.from({ length: 5 }, (_, i) => cache().set(`m${i}`, i)))
        const measured = await cache().measure()
        assert.ok(measured !== undefined)
        if (measured.exact) assert.equal(measured.entries, 5)
        assert.ok(measured.bytes > 0)
      })
    })

  if (capabilities.entryAges === true)
    runner.describe('oldest, newest and cleanupExpired', () => {
      test('name the entries written first and last, and drop expired ones', async () => {
        await cache().set('first', 1, { ttl: '1s' })
        await sleep(5)
        await cache().set('last', 2)
        assert.equal((await cache().oldest())?.key, 'first')
        assert.equal((await cache().newest())?.key, 'last')
        await sleep(1100)
        assert.equal(await cache().cleanupExpired(), 1)
        assert.equal((await cache().oldest())?.key, 'last')
      })
    })
}
