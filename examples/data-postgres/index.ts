// The data patterns on a real PostgreSQL: cache-aside, write-through after COMMIT, write-behind
// through an idempotent sink, and invalidation driven by the database itself.
// DATABASE_URL picks the database; without it, a throwaway PostgreSQL is started from the
// installed binaries (apt-get install postgresql) on a free loopback port, and removed at the end.
import pg from 'pg'
import { Cache } from '@cachewire/core'
import {
  InvalidationListener,
  createPostgresSink,
  installInvalidationTriggers,
  withTransaction,
} from '@cachewire/postgres'
import { startTemporaryPostgres } from '@cachewire/postgres/testing'

const server = process.env.DATABASE_URL ? undefined : await startTemporaryPostgres()
const url = process.env.DATABASE_URL ?? (server?.url as string)
console.log(
  server
    ? `PostgreSQL started on port ${server.port} (removed at exit)`
    : `PostgreSQL at DATABASE_URL`
)
const pool = new pg.Pool({ connectionString: url })
let closing = false
// node-postgres: an idle pooled connection can fail (a server restart); without a listener that would crash the app.
pool.on(
  'error',
  (error) => void (closing || console.error('idle PostgreSQL connection failed:', error.message))
)
const cache = new Cache({ defaultTtl: '5m' })
const say = (label: string, value: unknown): void =>
  console.log(`${label.padEnd(56)} ${JSON.stringify(value)}`)

await pool.query(
  `CREATE TABLE IF NOT EXISTS example_users (id int PRIMARY KEY, name text NOT NULL, balance int NOT NULL)`
)
await pool.query(
  `INSERT INTO example_users VALUES (1, 'Ada', 100), (2, 'Grace', 100) ON CONFLICT (id) DO NOTHING`
)
await pool.query(
  `CREATE TABLE IF NOT EXISTS example_visits (key text PRIMARY KEY, value jsonb NOT NULL, version bigint NOT NULL DEFAULT 0)`
)

// 1. Database-driven invalidation: whoever changes a user row (this app, another service, psql),
//    PostgreSQL names the keys and tags to drop, and the listener drops them.
await installInvalidationTriggers(pool, {
  table: 'example_users',
  keys: ['user:{id}'],
  tags: ['users'],
})
const listener = new InvalidationListener({ connection: url, cache })
await listener.start()

// 2. Cache-aside: the database on a miss, the cache after.
type User = { id: number; name: string; balance: number }
const findUser = (id: number): Promise<User | undefined> =>
  cache.wrap(
    `user:${id}`,
    async () =>
      (await pool.query<User>('SELECT id, name, balance FROM example_users WHERE id = $1', [id]))
        .rows[0],
    { tags: ['users'] }
  )
say('cache-aside: user 1 (from the database)', await findUser(1))
say('cache-aside: user 1 again (from the cache)', await cache.get('user:1'))

// 3. Write-through: the cache changes after COMMIT, never for a rolled-back transaction.
const invalidationOf = (key: string): Promise<number> =>
  new Promise((resolve) => {
    const seen = (change: { keys: readonly string[] }): void => {
      if (!change.keys.includes(key)) return
      listener.off('invalidated', seen)
      resolve(performance.now())
    }
    listener.on('invalidated', seen)
  })
await withTransaction(pool, cache, async (tx) => {
  await tx.query('UPDATE example_users SET balance = balance - 1000 WHERE id = 1')
  tx.afterCommit.set('user:1', { id: 1, name: 'Ada', balance: -900 })
  throw new Error('insufficient funds')
}).catch(async (error: Error) =>
  say(`write-through: rolled back (${error.message}), cache`, await cache.get('user:1'))
)
const transferSeen = invalidationOf('user:1')
await withTransaction(pool, cache, async (tx) => {
  const { rows } = await tx.query<User>(
    'UPDATE example_users SET balance = balance - 30 WHERE id = 1 RETURNING id, name, balance'
  )
  await tx.query('UPDATE example_users SET balance = balance + 30 WHERE id = 2')
  tx.afterCommit.set('user:1', rows[0], { tags: ['users'] })
  tx.afterCommit.delete('user:2')
})
say('write-through: committed transfer, cache', await cache.get('user:1'))
// The table's trigger reports the same change a moment later: the listener drops the key too (one extra miss, never a stale read).
await transferSeen
say('  …then the trigger’s invalidation arrives, cache', await cache.get('user:1'))

// 4. Invalidation from outside the app: another connection (a service, a migration, psql) changes a row.
await findUser(2)
const other = new pg.Client({ connectionString: url })
await other.connect()
const invalidated = invalidationOf('user:2')
const started = performance.now()
await other.query(`UPDATE example_users SET name = 'Grace Hopper' WHERE id = 2`)
await other.end()
say(
  `another connection's UPDATE → invalidated in ${((await invalidated) - started).toFixed(1)} ms`,
  await cache.get('user:2')
)
say('cache-aside: user 2 reloaded', await findUser(2))

// 5. Write-behind: acknowledged at once, persisted in batches; a retried batch is never applied twice.
const sink = createPostgresSink<{ page: string; visits: number }>({ pool, table: 'example_visits' })
const writer = cache.writeBehind<{ page: string; visits: number }>({
  persist: sink.persist,
  batchSize: 100,
  flushInterval: '200ms',
})
for (let i = 0; i < 500; i++)
  await writer.write(`visits:/page/${i % 250}`, { page: `/page/${i % 250}`, visits: i })
say('write-behind: 500 writes acknowledged, queued', writer.stats().queued)
say('write-behind: close()', await writer.close())
say('write-behind: rows in example_visits, sink stats', {
  rows: Number((await pool.query('SELECT count(*) FROM example_visits')).rows[0].count),
  ...sink.stats(),
})

closing = true
await listener.close()
await pool.end()
await server?.stop()
