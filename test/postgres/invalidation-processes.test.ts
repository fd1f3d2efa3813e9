import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { installInvalidationTriggers } from '@cachewire/postgres'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { createPool, describePostgres, psql, usePostgres } from '../helpers/postgres.js'
import { createTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { createClient, deleteKeysWithPrefix, redisUrl, uniquePrefix } from '../setup/redis.js'

const appScript = fileURLToPath(new URL('./fixtures/invalidation-app.mjs', import.meta.url))

interface App {
  child: ChildProcess
  call(op: string, args?: Record<string, unknown>): Promise<unknown>
  /** Resolves with Date.now() in the app when `key` is first gone from its cache. */
  watch(key: string): Promise<number>
  next(event: string): Promise<void>
}

async function startApp(env: Record<string, string>): Promise<App> {
  const child = fork(appScript, [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const pending = new Map<number, (value: unknown) => void>()
  const watchers = new Map<string, (at: number) => void>()
  const waiters: Array<{ event: string; resolve: () => void }> = []
  let next = 0
  child.on(
    'message',
    (message: { id?: number; result?: unknown; event?: string; key?: string; at?: number }) => {
      if (message.id !== undefined) pending.get(message.id)?.(message.result)
      if (message.event === 'invalidated')
        watchers.get(message.key as string)?.(message.at as number)
      for (const waiter of waiters.filter((w) => w.event === message.event)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  )
  const app: App = {
    child,
    call: (op, args = {}) =>
      new Promise((resolve) => {
        const id = next++
        pending.set(id, resolve)
        child.send({ id, op, ...args })
      }),
    watch: async (key) => {
      const at = new Promise<number>((resolve) => watchers.set(key, resolve))
      expect(await app.call('watch', { key })).toBe(true) // cached when the watch starts
      return at
    },
    next: (event) => new Promise((resolve) => waiters.push({ event, resolve })),
  }
  await app.next('ready')
  return app
}

/**
 * Until each process has received every bus message the other sent: a message still in flight
 * when the next round caches the key again would take that copy away (it did, at load 7).
 */
async function busDelivered(apps: App[]): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const counts = (await Promise.all(apps.map((app) => app.call('busCounts')))) as Array<{
      published: number
      received: number
    }>
    const [a, b] = counts as [(typeof counts)[0], (typeof counts)[0]]
    if (a.received >= b.published && b.received >= a.published) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('bus messages between the two processes not delivered within 10 s')
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

describePostgres('database-driven invalidation across two app processes', () => {
  const postgres = usePostgres()
  const prefix = uniquePrefix('pg-invalidation')
  let proxy: TcpProxy
  let apps: App[] = []
  let redis: Redis

  beforeAll(async () => {
    redis = createClient()
    const pool = createPool(postgres.url)
    await pool.query('CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, org_id int)')
    await pool.query(
      `INSERT INTO users SELECT i, 'user ' || i, i % 3 FROM generate_series(1, 10) i`
    )
    await installInvalidationTriggers(pool, { table: 'users', keys: ['user:{id}'] })
    // The listeners reach PostgreSQL through a fault proxy, so a test can keep them away.
    proxy = await createTcpProxy({ targetPort: postgres.server.port })
    const env = {
      REDIS_URL: redisUrl(),
      PREFIX: prefix,
      DATABASE_URL: postgres.url,
      LISTEN_URL: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`,
    }
    apps = await Promise.all([startApp(env), startApp(env)])
  }, 120_000)

  afterAll(async () => {
    for (const app of apps) {
      const exited = once(app.child, 'exit')
      app.child.send({ op: 'exit' })
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
      if (app.child.exitCode === null) app.child.kill('SIGKILL')
    }
    await deleteKeysWithPrefix(redis, prefix)
  })

  it('a row changed from psql invalidates the cached value in both processes within one second (20 changes)', async () => {
    const latencies: number[] = []
    for (let change = 1; change <= 20; change++) {
      for (const app of apps)
        expect(await app.call('load', { key: 'user:1', userId: 1 })).toMatchObject({ id: 1 })
      const applied = Promise.all(apps.map((app) => app.next('applied')))
      const invalidated = Promise.all(apps.map((app) => app.watch('user:1')))
      // RETURNING reads the clock as the row changes, just before COMMIT: the start of the measurement.
      const changedAt = Number(
        await psql(
          postgres.url,
          `UPDATE users SET name = 'change ${change}' WHERE id = 1 RETURNING (extract(epoch FROM clock_timestamp()) * 1000)::bigint`
        )
      )
      const times = await invalidated
      latencies.push(Math.max(...times) - changedAt)
      // Each process's listener applies every change (and tells the other over the bus): let the
      // slower one finish before the next round caches the key again.
      await applied
      await busDelivered(apps)
    }
    for (const app of apps)
      expect(await app.call('load', { key: 'user:1', userId: 1 })).toMatchObject({
        name: 'change 20',
      })
    console.log(
      `[measure] psql change → invalidated in both processes, 20 changes: median ${median(latencies)} ms, max ${Math.max(...latencies)} ms (${latencies.join(', ')})`
    )
    expect(Math.max(...latencies)).toBeLessThan(1000)
  })

  it('the listeners survive a PostgreSQL restart and catch up on changes made while they were away', async () => {
    for (const app of apps) await app.call('load', { key: 'user:2', userId: 2 })
    for (const app of apps) await app.call('load', { key: 'user:3', userId: 3 })
    const disconnected = Promise.all(apps.map((app) => app.next('disconnected')))
    // Keep the listeners out (every connection through the proxy is reset), and restart the server.
    proxy.setMode('reset')
    await postgres.server.stopServer()
    await disconnected
    await postgres.server.startServer()
    // Changed while both listeners are away: no NOTIFY can reach them.
    await psql(postgres.url, `UPDATE users SET name = 'changed while away' WHERE id = 2`)
    await new Promise((resolve) => setTimeout(resolve, 300))
    for (const app of apps)
      expect(await app.call('get', { key: 'user:2' })).toMatchObject({ name: 'user 2' }) // stale, for now

    const caughtUp = Promise.all(apps.map((app) => app.watch('user:2')))
    const back = Date.now()
    proxy.setMode('pass')
    const times = await caughtUp
    console.log(
      `[measure] restart catch-up: proxy open → invalidated in both processes: ${Math.max(...times) - back} ms (includes reconnect backoff ≤ 500 ms)`
    )
    for (const app of apps)
      expect(await app.call('load', { key: 'user:2', userId: 2 })).toMatchObject({
        name: 'changed while away',
      })

    // And NOTIFY works again on the new connections.
    const notified = Promise.all(apps.map((app) => app.watch('user:3')))
    const changedAt = Number(
      await psql(
        postgres.url,
        `UPDATE users SET name = 'after restart' WHERE id = 3 RETURNING (extract(epoch FROM clock_timestamp()) * 1000)::bigint`
      )
    )
    const after = Math.max(...(await notified)) - changedAt
    console.log(`[measure] after restart: psql change → invalidated in both processes: ${after} ms`)
    expect(after).toBeLessThan(1000)
  })
})
