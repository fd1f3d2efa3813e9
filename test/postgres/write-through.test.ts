import { Cache } from '@cachewire/core'
import { RedisStore } from '@cachewire/core/redis'
import { withTransaction } from '@cachewire/postgres'
import { beforeAll, expect, it } from 'vitest'
import { createPool, describePostgres, usePostgres } from '../helpers/postgres.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import { createClient, deleteKeysWithPrefix, uniquePrefix } from '../setup/redis.js'

describePostgres('write-through with withTransaction: the cache changes only after COMMIT', () => {
  const postgres = usePostgres()
  const prefix = uniquePrefix('pg-write-through')
  let cache: Cache

  beforeAll(async () => {
    const pool = createPool(postgres.url)
    await pool.query('CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)')
    await pool.query('INSERT INTO accounts VALUES (1, 100), (2, 100)')
    const redis = createClient()
    cache = new Cache({ store: new RedisStore({ client: redis, prefix }) })
    return () => deleteKeysWithPrefix(redis, prefix)
  })

  it('a rolled-back transaction leaves the cache untouched', async () => {
    const pool = createPool(postgres.url)
    await cache.set('account:1', { balance: 100 }, { tags: ['accounts'] })
    await cache.set('account:2', { balance: 100 }, { tags: ['accounts'] })
    await expect(
      withTransaction(pool, cache, async (tx) => {
        await tx.query('UPDATE accounts SET balance = balance - 50 WHERE id = 1')
        tx.afterCommit.set('account:1', { balance: 50 })
        tx.afterCommit.invalidateTags(['accounts'])
        tx.afterCommit.delete('account:2')
        throw new Error('insufficient funds on the other side')
      })
    ).rejects.toThrow('insufficient funds')
    expect(await cache.get('account:1')).toEqual({ balance: 100 })
    expect(await cache.get('account:2')).toEqual({ balance: 100 })
    expect((await pool.query('SELECT balance FROM accounts WHERE id = 1')).rows[0]).toEqual({
      balance: 100,
    })
    console.log(
      '[measure] rollback: rows changed 0, cache entries changed 0 (3 after-commit changes dropped)'
    )
  })

  it('a COMMIT the server refuses (deferred constraint) also leaves the cache untouched', async () => {
    const pool = createPool(postgres.url)
    await pool.query(
      'CREATE TABLE IF NOT EXISTS transfers (id int PRIMARY KEY, account int REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED)'
    )
    await cache.set('account:1', { balance: 100 })
    await expect(
      withTransaction(pool, cache, async (tx) => {
        await tx.query('INSERT INTO transfers VALUES (1, 999)') // checked at COMMIT: no account 999
        tx.afterCommit.set('account:1', { balance: 0 })
      })
    ).rejects.toMatchObject({ code: '23503' })
    expect(await cache.get('account:1')).toEqual({ balance: 100 })
  })

  it('a committed transaction updates and invalidates the cache before withTransaction resolves', async () => {
    const pool = createPool(postgres.url)
    await cache.set('account-list', [1, 2], { tags: ['account-lists'] })
    const result = await withTransaction(pool, cache, async (tx) => {
      const { rows } = await tx.query<{ balance: number }>(
        'UPDATE accounts SET balance = balance + 10 WHERE id = 2 RETURNING balance'
      )
      tx.afterCommit.set('account:2', rows[0], { tags: ['accounts'] })
      tx.afterCommit.invalidateTags(['account-lists'])
      return rows[0]?.balance
    })
    expect(result).toBe(110)
    expect(await cache.get('account-list')).toBeUndefined()
    expect(await cache.get('account:2')).toEqual({ balance: 110 })
  })

  it('a COMMIT whose answer is lost turns the cache changes into invalidations', async () => {
    let armed = false
    const proxy = await createTcpProxy({
      targetPort: postgres.server.port,
      inspect: (chunk, direction) => {
        if (direction === 'up' && chunk.includes('COMMIT')) armed = true
        else if (direction === 'down' && armed) {
          armed = false
          return 'reset' // the server committed; the client never hears it
        }
        return undefined
      },
    })
    const pool = createPool(`postgres://postgres@127.0.0.1:${proxy.port}/postgres`)
    await cache.set('account:1', { balance: 100 })
    await expect(
      withTransaction(pool, cache, async (tx) => {
        await tx.query('UPDATE accounts SET balance = 1 WHERE id = 1')
        tx.afterCommit.set('account:1', { balance: 1 })
      })
    ).rejects.toThrow()
    // The database did commit: a cached { balance: 100 } would now be a lie, and { balance: 1 } a guess.
    expect(
      (await createPool(postgres.url).query('SELECT balance FROM accounts WHERE id = 1')).rows[0]
    ).toEqual({ balance: 1 })
    expect(await cache.get('account:1')).toBeUndefined()
  })
})
