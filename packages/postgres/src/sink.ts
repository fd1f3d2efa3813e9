import {
  InvalidOptionError,
  parseDuration,
  rejectUnknownOptions,
  type Duration,
  type PendingWrite,
} from '@cachewire/core'

import {
  checkIn,
  checkOut,
  parseColumnName,
  parseTableName,
  quoteIdentifier,
  tableColumns,
  type ConnectionSource,
  type TableName,
} from './sql.js'

/** What the sink is told about a batch (the second argument of `persist`). */
export interface SinkBatchContext {
  /** Stable across retries of one batch: the ledger key. */
  batchId: string
  attempt?: number
}

export interface PostgresSinkOptions<T> {
  /** A `pg` Pool: each batch takes one connection for one transaction. */
  pool: ConnectionSource
  /** The table rows are upserted into (`users`, `app.users`). It needs a `bigint` version column. */
  table: string
  /** The column(s) of the primary key or unique index an upsert conflicts on. @default 'key' */
  keyColumns?: string | readonly string[]
  /**
   * A write as a row: column → value. Every row of a batch must have the same columns; the version
   * column is added by the sink. Objects go to json/jsonb columns as JSON (an array for jsonb must be
   * `JSON.stringify`d: `pg` sends JS arrays as PostgreSQL arrays).
   * @default (write) => ({ key: write.key, value: JSON.stringify(write.value) })
   */
  row?: (write: PendingWrite<T>) => Record<string, unknown>
  /** The per-row version column: a row is only overwritten by a higher version. @default 'version' */
  versionColumn?: string
  /** The table of applied batch ids, created if missing. @default 'cachewire_batches' */
  ledgerTable?: string
  /** How long an applied batch id is remembered (longer than any batch is retried). @default '1d' */
  ledgerRetention?: Duration
}

export interface PostgresSinkStats {
  /** Batches committed. */
  batches: number
  /** Batches skipped because the ledger holds their id: a retry of a batch that had committed. */
  duplicateBatches: number
  /** Rows inserted or updated. */
  rowsWritten: number
  /** Rows not written because the table held the same or a newer version. */
  rowsOlder: number
}

/** A write-behind `persist` for PostgreSQL, with its schema step and counters. */
export interface PostgresSink<T> {
  /** Pass as `persist` to `cache.writeBehind`. */
  persist: (batch: ReadonlyArray<PendingWrite<T>>, context: SinkBatchContext) => Promise<void>
  /** Creates the ledger table if missing and checks the table's columns. `persist` calls it once itself. */
  install(): Promise<void>
  stats(): PostgresSinkStats
}

const KNOWN = [
  'pool',
  'table',
  'keyColumns',
  'row',
  'versionColumn',
  'ledgerTable',
  'ledgerRetention',
] as const
/** PostgreSQL takes at most 65,535 parameters per statement; stay well under. */
const MAX_PARAMETERS = 30_000
const PRUNE_EVERY_MS = 3_600_000

/**
 * A write-behind sink that upserts each batch in one transaction, idempotently twice over:
 * - **per row**, a version column: `ON CONFLICT … DO UPDATE … WHERE table.version < EXCLUDED.version`,
 *   so an older write (a replay, a late retry) never overwrites a newer one;
 * - **per batch**, a ledger of applied batch ids, written in the same transaction: a retry that
 *   follows a connection drop after COMMIT finds its id and commits nothing.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { Cache } from '@cachewire/core'
 * import { createPostgresSink } from '@cachewire/postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * await pool.query('CREATE TABLE IF NOT EXISTS users (id text PRIMARY KEY, name text, version bigint NOT NULL DEFAULT 0)')
 * const sink = createPostgresSink<{ id: string; name: string }>({
 *   pool,
 *   table: 'users',
 *   keyColumns: 'id',
 *   row: (write) => ({ id: write.value.id, name: write.value.name }),
 * })
 * const writer = new Cache().writeBehind({ persist: sink.persist })
 * await writer.write('user:1', { id: '1', name: 'Ada' })
 * await writer.close()
 * await pool.end()
 * ```
 */
export function createPostgresSink<T>(options: PostgresSinkOptions<T>): PostgresSink<T> {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('pool', 'a pg Pool', undefined)
  rejectUnknownOptions(options, KNOWN, '')
  if (typeof options.pool?.connect !== 'function')
    throw new InvalidOptionError('pool', 'a pg Pool', options.pool)
  const table = parseTableName(options.table, 'table')
  const keyList =
    typeof options.keyColumns === 'string' || options.keyColumns === undefined
      ? [options.keyColumns ?? 'key']
      : [...options.keyColumns]
  if (keyList.length === 0)
    throw new InvalidOptionError('keyColumns', 'one or more column names', options.keyColumns)
  const keyColumns = keyList.map((column, i) => parseColumnName(column, `keyColumns[${i}]`))
  const versionColumn = parseColumnName(options.versionColumn ?? 'version', 'versionColumn')
  const ledger = parseTableName(options.ledgerTable ?? 'cachewire_batches', 'ledgerTable')
  const retentionMs = parseDuration(options.ledgerRetention ?? '1d', 'ledgerRetention')
  if (options.row !== undefined && typeof options.row !== 'function')
    throw new InvalidOptionError('row', 'a function (write) => row', options.row)
  const toRow =
    options.row ??
    ((write: PendingWrite<T>) => ({ key: write.key, value: JSON.stringify(write.value) }))
  const pool = options.pool
  const stats: PostgresSinkStats = { batches: 0, duplicateBatches: 0, rowsWritten: 0, rowsOlder: 0 }
  let installing: Promise<Set<string>> | undefined
  let lastPrune = 0

  const install = async (): Promise<Set<string>> => {
    const client = await checkOut(pool)
    let columns: Set<string>
    try {
      try {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${ledger.sql} (batch_id text PRIMARY KEY, rows integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`
        )
      } catch (error) {
        // Two processes creating it at once: one wins, the other sees the type or relation exist.
        if (!['23505', '42P07'].includes((error as { code?: string }).code ?? '')) throw error
      }
      columns = await tableColumns(client, table)
    } finally {
      checkIn(client)
    }
    if (columns.size === 0)
      throw new InvalidOptionError('table', 'an existing table', options.table)
    for (const column of [...keyColumns, versionColumn]) {
      if (!columns.has(column))
        throw new InvalidOptionError(
          column === versionColumn ? 'versionColumn' : 'keyColumns',
          `a column of ${table.text}`,
          column
        )
    }
    return columns
  }
  const ready = (): Promise<Set<string>> => {
    installing ??= install().catch((error: unknown) => {
      installing = undefined // try again on the next batch
      throw error
    })
    return installing
  }

  const persist = async (
    batch: ReadonlyArray<PendingWrite<T>>,
    context: SinkBatchContext
  ): Promise<void> => {
    if (typeof context?.batchId !== 'string')
      throw new InvalidOptionError(
        'persist context',
        'an object with a batchId (use the sink as write-behind persist)',
        context
      )
    const columns = await ready()
    const rows = latestPerKey(batch, toRow, keyColumns, versionColumn, columns)
    const client = await checkOut(pool)
    let failure: unknown
    try {
      await client.query('BEGIN')
      const claimed = await client.query(
        `INSERT INTO ${ledger.sql} (batch_id, rows) VALUES ($1, $2) ON CONFLICT (batch_id) DO NOTHING`,
        [context.batchId, rows.values.length]
      )
      if (claimed.rowCount === 0) {
        // This batch committed before (its answer was lost on the way back): nothing to do.
        await client.query('ROLLBACK')
        stats.duplicateBatches++
        return
      }
      let written = 0
      for (const statement of upserts(
        table,
        rows.columns,
        rows.values,
        keyColumns,
        versionColumn
      )) {
        written += (await client.query(statement.text, statement.values)).rowCount ?? 0
      }
      await client.query('COMMIT')
      stats.batches++
      stats.rowsWritten += written
      stats.rowsOlder += rows.values.length - written
    } catch (error) {
      failure = error
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      // A connection that failed mid-transaction is not put back in the pool.
      checkIn(client, failure instanceof Error ? failure : undefined)
    }
    if (Date.now() - lastPrune > PRUNE_EVERY_MS) {
      lastPrune = Date.now()
      await pruneLedger(pool, ledger, retentionMs).catch(() => {})
    }
  }

  return { persist, install: async () => void (await ready()), stats: () => ({ ...stats }) }
}

interface Rows {
  columns: string[]
  values: unknown[][]
}

/** One row per conflict key (the highest version), all with the same columns; the version goes last. */
function latestPerKey<T>(
  batch: ReadonlyArray<PendingWrite<T>>,
  toRow: (write: PendingWrite<T>) => Record<string, unknown>,
  keyColumns: string[],
  versionColumn: string,
  tableColumnNames: Set<string>
): Rows {
  let columns: string[] | undefined
  const byKey = new Map<string, { version: number; values: unknown[] }>()
  for (const write of batch) {
    const row = toRow(write)
    if (columns === undefined) {
      columns = Object.keys(row).map((column) => parseColumnName(column, 'row() column'))
      for (const column of [...keyColumns])
        if (!columns.includes(column))
          throw new InvalidOptionError(
            'row',
            `rows with the key column ${column}`,
            Object.keys(row)
          )
      for (const column of columns)
        if (!tableColumnNames.has(column))
          throw new InvalidOptionError('row', 'columns of the table', column)
      if (columns.includes(versionColumn))
        throw new InvalidOptionError(
          'row',
          `rows without the version column ${versionColumn} (the sink sets it)`,
          Object.keys(row)
        )
    }
    const values = columns.map((column) => row[column])
    const key = JSON.stringify(keyColumns.map((column) => row[column]))
    const seen = byKey.get(key)
    // ON CONFLICT cannot touch one row twice in a statement: keep the newest write of each key.
    if (seen === undefined || seen.version < write.version)
      byKey.set(key, { version: write.version, values: [...values, write.version] })
  }
  return {
    columns: [...(columns ?? []), versionColumn],
    values: [...byKey.values()].map((row) => row.values),
  }
}

function* upserts(
  table: TableName,
  columns: string[],
  rows: unknown[][],
  keyColumns: string[],
  versionColumn: string
): Generator<{ text: string; values: unknown[] }> {
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length))
  const updated = columns.filter((column) => !keyColumns.includes(column))
  const head = `INSERT INTO ${table.sql} (${columns.map(quoteIdentifier).join(', ')}) VALUES `
  const tail =
    ` ON CONFLICT (${keyColumns.map(quoteIdentifier).join(', ')}) DO UPDATE SET ` +
    updated
      .map((column) => `${quoteIdentifier(column)} = EXCLUDED.${quoteIdentifier(column)}`)
      .join(', ') +
    ` WHERE ${table.sql}.${quoteIdentifier(versionColumn)} < EXCLUDED.${quoteIdentifier(versionColumn)}`
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement)
    const values: unknown[] = []
    const tuples = chunk.map(
      (row) => `(${row.map((value) => `$${values.push(value)}`).join(', ')})`
    )
    yield { text: head + tuples.join(', ') + tail, values }
  }
}

async function pruneLedger(
  pool: ConnectionSource,
  ledger: TableName,
  retentionMs: number
): Promise<void> {
  const client = await checkOut(pool)
  try {
    await client.query(
      `DELETE FROM ${ledger.sql} WHERE applied_at < now() - make_interval(secs => $1)`,
      [retentionMs / 1000]
    )
  } finally {
    checkIn(client)
  }
}
