import { Cache } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import {
  InvalidationListener,
  installInvalidationTriggers,
  removeInvalidationTriggers,
  type AppliedChange,
  type InvalidationListenerOptions,
} from '@cachewire/postgres'
import { InvalidOptionError } from '@cachewire/core'
import { beforeAll, expect, it, vi } from 'vitest'
import type pg from 'pg'
import { createPool, describePostgres, usePostgres } from '../helpers/postgres.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import { registerCleanup } from '../setup/cleanup.js'
import { createClient, deleteKeysWithPrefix, uniquePrefix } from '../setup/redis.js'

/**
 * vi.waitFor's default (1 s) is a deadline a loaded CI machine misses (2,000 keys through the
 * listener at load 7+): a bound on how long to wait for the listener, not a speed check.
 */
const SETTLES = { timeout: 15_000, interval: 20 }

describePostgres('invalidation triggers and the listener', () => {
  const postgres = usePostgres()
  const prefix = uniquePrefix('pg-triggers')
  let pool: pg.Pool
  let cache: Cache

  beforeAll(async () => {
    pool = createPool(postgres.url)
    await pool.query('CREATE TABLE members (id int PRIMARY KEY, name text NOT NULL, org_id int)')
    await pool.query(
      `INSERT INTO members SELECT i, 'member ' || i, i % 4 FROM generate_series(1, 2000) i`
    )
    await installInvalidationTriggers(pool, {
      table: 'members',
      keys: ['member:{id}'],
      tags: ['members', 'org:{org_id}'],
    })
    const redis = createClient()
    cache = new Cache({ store: new RedisStore({ client: redis, prefix, timeout: '2s' }) })
    return () => deleteKeysWithPrefix(redis, prefix)
  })

  /** A listener on this file's cache, closed at the end of the test; `changes` collects what it applied. */
  async function listen(
    options: Partial<InvalidationListenerOptions> = {}
  ): Promise<{ listener: InvalidationListener; changes: AppliedChange[] }> {
    const listener = new InvalidationListener({
      connection: postgres.url,
      cache,
      name: uniquePrefix('cursor'),
      reconnect: { baseDelay: '20ms', maxDelay: '200ms' },
      ...options,
    })
    const changes: AppliedChange[] = []
    listener.on('invalidated', (change) => changes.push(change))
    registerCleanup(() => listener.close())
    await listener.start()
    return { listener, changes }
  }

  it('checks templates against the table when installing', async () => {
    await expect(
      installInvalidationTriggers(pool, { table: 'members', keys: ['member:{idd}'] })
    ).rejects.toThrow(/options\.keys\[0\].*member:\{idd\}/)
    await expect(
      installInvalidationTriggers(pool, { table: 'nope', keys: ['x:{id}'] })
    ).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(
      installInvalidationTriggers(pool, { table: 'members', tags: ['org:{org_id'] })
    ).rejects.toThrow(/options\.tags\[0\]/)
  })

  it('an UPDATE invalidates the keys and tags of the row before and after (a row that moved org)', async () => {
    const { changes } = await listen()
    await cache.set('member:7', { name: 'member 7' })
    await cache.set('org-3-page', ['…'], { tags: ['org:3'] })
    await cache.set('org-0-page', ['…'], { tags: ['org:0'] })
    await pool.query('UPDATE members SET org_id = 0 WHERE id = 7') // 7 % 4 = 3: from org 3 to org 0
    await vi.waitFor(() => expect(changes).toHaveLength(1), SETTLES)
    expect(changes[0]).toMatchObject({ op: 'UPDATE', keys: ['member:7'], source: 'notify' })
    expect([...(changes[0] as AppliedChange).tags].sort()).toEqual(['members', 'org:0', 'org:3'])
    expect(await cache.get('member:7')).toBeUndefined()
    expect(await cache.get('org-3-page')).toBeUndefined()
    expect(await cache.get('org-0-page')).toBeUndefined()
  })

  it('INSERT and DELETE invalidate too; a rolled-back change records and notifies nothing', async () => {
    const { changes } = await listen()
    await pool.query(`INSERT INTO members VALUES (5000, 'new', 1)`)
    await pool.query('DELETE FROM members WHERE id = 5000')
    const client = await pool.connect()
    await client.query('BEGIN')
    await client.query(`UPDATE members SET name = 'never' WHERE id = 8`)
    await client.query('ROLLBACK')
    client.release()
    await vi.waitFor(() => expect(changes).toHaveLength(2), SETTLES)
    expect(changes.map((change) => [change.op, change.keys])).toEqual([
      ['INSERT', ['member:5000']],
      ['DELETE', ['member:5000']],
    ])
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(changes).toHaveLength(2)
  })

  it('a statement changing 2,000 rows sends one NOTIFY with just the change id (over 8000 bytes) and still invalidates every key', async () => {
    const { changes } = await listen()
    await cache.set('member:1999', 'cached')
    await pool.query(`UPDATE members SET name = name || '!'`)
    await vi.waitFor(() => expect(changes).toHaveLength(1), SETTLES)
    expect(changes[0]?.keys).toHaveLength(2000)
    expect(await cache.get('member:1999')).toBeUndefined()
  })

  it('TRUNCATE invalidates the table-wide tag', async () => {
    await pool.query('CREATE TABLE scratch (id int PRIMARY KEY)')
    await installInvalidationTriggers(pool, {
      table: 'scratch',
      keys: ['scratch:{id}'],
      tags: ['scratch'],
    })
    const { changes } = await listen()
    await cache.set('scratch-list', [1], { tags: ['scratch'] })
    await pool.query('TRUNCATE scratch')
    await vi.waitFor(() => expect(changes).toHaveLength(1), SETTLES)
    expect(changes[0]).toMatchObject({ op: 'TRUNCATE', keys: [], tags: ['scratch'] })
    expect(await cache.get('scratch-list')).toBeUndefined()
    await removeInvalidationTriggers(pool, { table: 'scratch' })
    await pool.query('INSERT INTO scratch VALUES (1)')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(changes).toHaveLength(1)
  })

  it('catches up on a transaction that committed out of id order while the listener was away', async () => {
    const proxy = await createTcpProxy({ targetPort: postgres.server.port })
    const { listener, changes } = await listen({
      connection: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`,
    })
    // The early transaction takes a change id first and commits last.
    const early = await pool.connect()
    registerCleanup(() => early.release())
    await early.query('BEGIN')
    await early.query(`UPDATE members SET name = 'early' WHERE id = 10`)
    await pool.query(`UPDATE members SET name = 'late' WHERE id = 11`)
    await vi.waitFor(
      () => expect(changes.map((change) => change.keys[0])).toEqual(['member:11']),
      SETTLES
    )
    const disconnected = new Promise((resolve) => listener.once('disconnected', resolve))
    proxy.setMode('reset')
    await disconnected
    await cache.set('member:10', 'stale')
    await early.query('COMMIT') // its NOTIFY goes nowhere: the listener is away
    const reconnected = new Promise<void>((resolve) => listener.once('connected', () => resolve()))
    proxy.setMode('pass')
    await reconnected
    expect(changes.map((change) => [change.keys[0], change.source])).toEqual([
      ['member:11', 'notify'],
      ['member:10', 'catch-up'],
    ])
    expect(await cache.get('member:10')).toBeUndefined()
  })

  it('prunes the changes table, and a listener that comes back after its changes were pruned says so', async () => {
    const name = uniquePrefix('cursor')
    const first = await listen({ name })
    await first.listener.close()
    for (let i = 0; i < 20; i++)
      await pool.query(`UPDATE members SET name = 'prune ${i}' WHERE id = 12`)
    const pruner = await listen({
      checkInterval: '100ms',
      prune: { maxRows: 5, interval: '100ms' },
    })
    await vi.waitFor(
      async () =>
        expect(
          Number((await pool.query('SELECT count(*) FROM cachewire_changes')).rows[0].count)
        ).toBeLessThanOrEqual(5),
      SETTLES
    )
    await pruner.listener.close()
    const missed: unknown[] = []
    await listen({ name, onMissedChanges: (info) => void missed.push(info) })
    expect(missed).toHaveLength(1)
  })
})
