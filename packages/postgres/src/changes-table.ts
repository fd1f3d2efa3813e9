import { quoteIdentifier, type Queryable, type TableName } from './sql.js'

/** Where a trigger records changes and where listeners keep their place; derived from the changes table's name. */
export interface ChangesTables {
  changes: TableName
  /** `<changes>_state`: per name, an id and an xmin (listener cursors, the prune watermark). */
  state: TableName
}

export function changesTables(changes: TableName): ChangesTables {
  const name = `${changes.name}_state`
  const state: TableName = {
    schema: changes.schema,
    name,
    sql:
      changes.schema === undefined
        ? quoteIdentifier(name)
        : `${quoteIdentifier(changes.schema)}.${quoteIdentifier(name)}`,
    text: changes.schema === undefined ? name : `${changes.schema}.${name}`,
  }
  return { changes, state }
}

/**
 * Creates the changes table and its state table if missing. Each change row holds the keys and tags
 * to invalidate, and the id of the transaction that wrote it (`xid`): a listener catching up reads
 * every row above the last id it applied *and* every row of a transaction that was still open at its
 * previous catch-up, since ids are handed out at INSERT but become visible at COMMIT, out of order.
 */
export async function ensureChangesTables(db: Queryable, tables: ChangesTables): Promise<void> {
  const { changes, state } = tables
  const index = (suffix: string): string =>
    quoteIdentifier(`${changes.name}_${suffix}`.slice(0, 63))
  await db.query(`CREATE TABLE IF NOT EXISTS ${changes.sql} (
      id bigserial PRIMARY KEY,
      xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
      table_name text NOT NULL,
      op text NOT NULL,
      keys text[] NOT NULL DEFAULT '{}',
      tags text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    )`)
  await db.query(`CREATE INDEX IF NOT EXISTS ${index('xid')} ON ${changes.sql} (xid)`)
  await db.query(`CREATE INDEX IF NOT EXISTS ${index('created_at')} ON ${changes.sql} (created_at)`)
  await db.query(
    `CREATE TABLE IF NOT EXISTS ${state.sql} (name text PRIMARY KEY, last_id bigint NOT NULL, snapshot_xmin xid8)`
  )
}
