import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Cache } from '@cachewire/core'
import { createPostgresSink } from '@cachewire/postgres'
import type pg from 'pg'
import { expect, it } from 'vitest'
import { createPool, describePostgres, usePostgres } from '../helpers/postgres.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'
import { registerCleanup } from '../setup/cleanup.js'

const writerScript = fileURLToPath(new URL('./fixtures/sink-writer.mjs', import.meta.url))

/** A table with a version column, and an audit of every row write to count doubles. */
async function createItems(pool: pg.Pool, table: string): Promise<void> {
  await pool.query(
    `CREATE TABLE ${table} (key text PRIMARY KEY, value jsonb NOT NULL, version bigint NOT NULL)`
  )
  await pool.query(`CREATE TABLE ${table}_applies (key text NOT NULL, version bigint NOT NULL)`)
  await pool.query(`CREATE FUNCTION ${table}_audit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO ${table}_applies VALUES (NEW.key, NEW.version); RETURN NULL; END $$`)
  await pool.query(
    `CREATE TRIGGER audit AFTER INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_audit()`
  )
}

/** Rows in the table; rows applied more than once; writes lost (of `expected` keys item:0..n-1). */
async function count(
  pool: pg.Pool,
  table: string,
  expected: number
): Promise<{ rows: number; doubled: number; lost: number }> {
  const rows = Number((await pool.query(`SELECT count(*) FROM ${table}`)).rows[0].count)
  const doubled = Number(
    (
      await pool.query(
        `SELECT count(*) FROM (SELECT key FROM ${table}_applies GROUP BY key, version HAVING count(*) > 1) d`
      )
    ).rows[0].count
  )
  const present = Number(
    (
      await pool.query(
        `SELECT count(*) FROM generate_series(0, $1 - 1) i JOIN ${table} ON key = 'item:' || i`,
        [expected]
      )
    ).rows[0].count
  )
  return { rows, doubled, lost: expected - present }
}

describePostgres('the write-behind sink on PostgreSQL', () => {
  const postgres = usePostgres()

  it('does not apply a batch twice when the connection drops after COMMIT', async () => {
    const direct = createPool(postgres.url)
    await createItems(direct, 'reset_items')
    // The 2nd and 5th COMMIT are carried out by the server, and their answers never arrive.
    let commits = 0
    let armed = false
    const proxy = await createTcpProxy({
      targetPort: postgres.server.port,
      inspect: (chunk, direction) => {
        if (direction === 'up' && chunk.includes('COMMIT')) armed = [2, 5].includes(++commits)
        else if (direction === 'down' && armed) {
          armed = false
          return 'reset'
        }
        return undefined
      },
    })
    const sink = createPostgresSink<{ i: number }>({
      pool: createPool(`postgres://postgres@127.0.0.1:${proxy.port}/postgres`),
      table: 'reset_items',
    })
    const calls: Array<{ batchId: string; attempt: number }> = []
    const writer = new Cache().writeBehind<{ i: number }>({
      persist: async (batch, context) => {
        calls.push(context)
        await sink.persist(batch, context)
      },
      batchSize: 100,
      flushInterval: '1h',
      flushOnSignals: false,
      spillFile: false,
      retry: { attempts: 5, baseDelay: '10ms' },
    })
    for (let i = 0; i < 1000; i++) await writer.write(`item:${i}`, { i })
    expect(await writer.close()).toMatchObject({ clean: true })

    const result = await count(direct, 'reset_items', 1000)
    console.log(
      `[measure] reset after COMMIT (2 of 10 batches): acknowledged 1000, rows ${result.rows}, lost ${result.lost}, doubled ${result.doubled}, retried batches skipped by the ledger ${sink.stats().duplicateBatches}`
    )
    expect(result).toEqual({ rows: 1000, doubled: 0, lost: 0 })
    const retries = calls.filter((call) => call.attempt === 2)
    expect(retries).toHaveLength(2)
    for (const retry of retries)
      expect(calls.filter((call) => call.batchId === retry.batchId)).toHaveLength(2)
    // The sink saw 8 COMMITs answered; the 2 unanswered ones were found in the ledger by their retries.
    expect(sink.stats()).toMatchObject({
      batches: 8,
      duplicateBatches: 2,
      rowsWritten: 800,
      rowsOlder: 0,
    })
  })

  it('never lets an older version overwrite a newer one', async () => {
    const pool = createPool(postgres.url)
    await createItems(pool, 'versioned_items')
    const sink = createPostgresSink<{ v: string }>({ pool, table: 'versioned_items' })
    await sink.persist([{ key: 'a', value: { v: 'new' }, version: 20 }], { batchId: 'b1' })
    await sink.persist(
      [
        { key: 'a', value: { v: 'old' }, version: 10 },
        { key: 'b', value: { v: 'b' }, version: 11 },
      ],
      { batchId: 'b2' }
    )
    const { rows } = await pool.query(
      'SELECT key, value, version FROM versioned_items ORDER BY key'
    )
    expect(rows).toEqual([
      { key: 'a', value: { v: 'new' }, version: '20' },
      { key: 'b', value: { v: 'b' }, version: '11' },
    ])
    expect(sink.stats()).toMatchObject({ batches: 2, rowsWritten: 2, rowsOlder: 1 })
  })

  it('persists all 10,000 queued writes on SIGTERM (a second SIGTERM mid-flush changes nothing) and exits 0', async () => {
    const pool = createPool(postgres.url)
    await createItems(pool, 'sigterm_items')
    const child = fork(writerScript, [], {
      env: { ...process.env, DATABASE_URL: postgres.url, TABLE: 'sigterm_items', WRITES: '10000' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    registerCleanup(() => void (child.exitCode === null && child.kill('SIGKILL')))
    const [report] = (await once(child, 'message')) as [{ acknowledged: number; queued: number }]
    expect(report.acknowledged).toBe(10_000)
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    // Early in the flush of ~10,000 rows (hundreds of ms). At 300 ms, on a loaded CI machine, the
    // second signal met the flush's end and the process's exit, where no listener runs any more.
    await new Promise((resolve) => setTimeout(resolve, 50))
    const secondSignal = child.exitCode === null
    if (secondSignal) child.kill('SIGTERM')
    expect(await exited).toEqual([0, null])
    const result = await count(pool, 'sigterm_items', 10_000)
    console.log(
      `[measure] sigterm: acknowledged 10000, queued at SIGTERM ${report.queued}, second SIGTERM sent mid-flush: ${secondSignal}, rows ${result.rows}, lost ${result.lost}, doubled ${result.doubled}`
    )
    expect(result).toEqual({ rows: 10_000, doubled: 0, lost: 0 })
  })
})
