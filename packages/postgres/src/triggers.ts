import { createHash } from 'node:crypto'
import { InvalidOptionError, rejectUnknownOptions } from '@cachewire/core'
import { changesTables, ensureChangesTables } from './changes-table.js'
import {
  checkIn,
  checkOut,
  parseChannel,
  parseTableName,
  quoteIdentifier,
  quoteLiteral,
  tableColumns,
  type ConnectionSource,
  type Queryable,
  type TableName,
} from './sql.js'
import {
  isStatic,
  parseTemplate,
  templateColumns,
  templateSql,
  type Template,
} from './templates.js'

export interface InvalidationTriggerOptions {
  /** The table to watch (`users`, `app.users`). */
  table: string
  /** Cache keys a changed row invalidates, as templates over its columns: `['user:{id}']`. */
  keys?: readonly string[]
  /**
   * Tags a changed row invalidates: `['user:{id}', 'org:{org_id}']`. A template without a column
   * (`'users'`) is a table-wide tag: it is also what a TRUNCATE invalidates. With none, a TRUNCATE
   * asks listeners to clear the whole cache.
   */
  tags?: readonly string[]
  /** NOTIFY channel; listeners must use the same. @default 'cachewire_invalidate' */
  channel?: string
  /** The changes (outbox) table, created if missing. @default 'cachewire_changes' */
  changesTable?: string
}

export const DEFAULT_CHANNEL = 'cachewire_invalidate'
export const DEFAULT_CHANGES_TABLE = 'cachewire_changes'

/** NOTIFY payloads must stay under 8000 bytes; past this, the payload carries only the change id. */
const MAX_INLINE_PAYLOAD = 7900
const KNOWN = ['table', 'keys', 'tags', 'channel', 'changesTable'] as const
const EVENTS = ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'] as const

/**
 * Makes PostgreSQL itself report changes to `table`, whoever makes them (the app, another service,
 * a migration, `psql`): statement-level AFTER triggers for INSERT, UPDATE, DELETE and TRUNCATE compute
 * the keys and tags of every changed row — from NEW rows, OLD rows, or both for an UPDATE (a row that
 * moved from `org:1` to `org:2` invalidates both) — record them in the changes table and send a
 * `NOTIFY` with them (only the change id when they would not fit in 8000 bytes). Everything happens
 * inside the writer's transaction: a rolled-back change records and notifies nothing.
 *
 * Columns in templates are checked against the table now (`InvalidOptionError` naming the
 * template). Installing again replaces the triggers; `removeInvalidationTriggers` removes them.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { installInvalidationTriggers } from '@cachewire/postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * await installInvalidationTriggers(pool, { table: 'users', keys: ['user:{id}'], tags: ['users', 'org:{org_id}'] })
 * ```
 */
export async function installInvalidationTriggers(
  pool: ConnectionSource,
  options: InvalidationTriggerOptions
): Promise<void> {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('table', 'a table name', undefined)
  rejectUnknownOptions(options, KNOWN, '')
  if (typeof pool?.connect !== 'function') throw new InvalidOptionError('pool', 'a pg Pool', pool)
  const table = parseTableName(options.table, 'table')
  const keys = templates(options.keys, 'keys')
  const tags = templates(options.tags, 'tags')
  if (keys.length + tags.length === 0)
    throw new InvalidOptionError('keys', 'at least one key or tag template', options.keys)
  const channel = parseChannel(options.channel ?? DEFAULT_CHANNEL, 'channel')
  const tables = changesTables(
    parseTableName(options.changesTable ?? DEFAULT_CHANGES_TABLE, 'changesTable')
  )
  await withInstallLock(pool, async (client) => {
    const columns = await tableColumns(client, table)
    if (columns.size === 0)
      throw new InvalidOptionError('table', 'an existing table', options.table)
    for (const [option, list] of [
      ['keys', keys],
      ['tags', tags],
    ] as const) {
      list.forEach((template, i) => {
        for (const column of templateColumns(template)) {
          if (!columns.has(column))
            throw new InvalidOptionError(
              `${option}[${i}]`,
              `a template over columns of ${table.text} (${[...columns].join(', ')})`,
              template.source
            )
        }
      })
    }
    await ensureChangesTables(client, tables)
    const fn = functionName(table)
    await client.query(triggerFunctionSql(fn, keys, tags, channel, tables.changes.sql))
    for (const event of EVENTS) {
      const name = quoteIdentifier(`cachewire_invalidate_${event.toLowerCase()}`)
      const transitions =
        event === 'INSERT'
          ? 'REFERENCING NEW TABLE AS new_rows'
          : event === 'UPDATE'
            ? 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
            : event === 'DELETE'
              ? 'REFERENCING OLD TABLE AS old_rows'
              : ''
      await client.query(`DROP TRIGGER IF EXISTS ${name} ON ${table.sql}`)
      await client.query(
        `CREATE TRIGGER ${name} AFTER ${event} ON ${table.sql} ${transitions} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`
      )
    }
  })
}

/**
 * Removes the triggers and the function `installInvalidationTriggers` made for `table` (the changes
 * table stays: other tables may use it).
 *
 * @example
 * ```ts
 * await removeInvalidationTriggers(pool, { table: 'users' })
 * ```
 */
export async function removeInvalidationTriggers(
  pool: ConnectionSource,
  options: { table: string }
): Promise<void> {
  const table = parseTableName(options?.table, 'table')
  await withInstallLock(pool, async (client) => {
    for (const event of EVENTS)
      await client.query(
        `DROP TRIGGER IF EXISTS ${quoteIdentifier(`cachewire_invalidate_${event.toLowerCase()}`)} ON ${table.sql}`
      )
    await client.query(`DROP FUNCTION IF EXISTS ${functionName(table)}()`)
  })
}

/** Runs schema changes in one transaction under an advisory lock, so processes starting together do not race. */
export async function withInstallLock(
  pool: ConnectionSource,
  work: (client: Queryable) => Promise<void>
): Promise<void> {
  const client = await checkOut(pool)
  let failure: Error | undefined
  try {
    await lockedSchemaChange(client, work)
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error))
    throw error
  } finally {
    // A failed schema change may have left the connection mid-transaction: do not pool it.
    checkIn(client, failure)
  }
}

/** As `withInstallLock`, on a connection the caller holds (a listener's own). */
export async function lockedSchemaChange(
  client: Queryable,
  work: (client: Queryable) => Promise<void>
): Promise<void> {
  await client.query('BEGIN')
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('cachewire:install'))`)
    await work(client)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

function templates(list: readonly string[] | undefined, option: string): Template[] {
  if (list === undefined) return []
  if (!Array.isArray(list))
    throw new InvalidOptionError(option, "an array of templates like ['user:{id}']", list)
  return list.map((source, i) => parseTemplate(source, `${option}[${i}]`))
}

/** `"schema".cachewire_inv_<table>_<hash>`, within PostgreSQL's 63-byte names. */
function functionName(table: TableName): string {
  const hash = createHash('sha256').update(table.text).digest('hex').slice(0, 8)
  const name = `cachewire_inv_${table.name.slice(0, 40)}_${hash}`
  return table.schema === undefined
    ? quoteIdentifier(name)
    : `${quoteIdentifier(table.schema)}.${quoteIdentifier(name)}`
}

/** `SELECT` of the distinct non-null values of `list` over the row set `rows`, into `target`. */
function collect(list: Template[], rows: string, target: string): string {
  if (list.length === 0) return `${target} := '{}';`
  const values = list.map((template) => `(${templateSql(template, 'r')})`).join(', ')
  return `SELECT coalesce(array_agg(DISTINCT v.x) FILTER (WHERE v.x IS NOT NULL), '{}') INTO ${target}
      FROM ${rows} r CROSS JOIN LATERAL (VALUES ${values}) AS v(x);`
}

export function triggerFunctionSql(
  fn: string,
  keys: Template[],
  tags: Template[],
  channel: string,
  changes: string
): string {
  const both = '(SELECT * FROM new_rows UNION ALL SELECT * FROM old_rows)'
  const tableWide = tags.filter(isStatic).map((template) => templateSql(template, 'r'))
  return `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $cachewire$
DECLARE
  k text[];
  t text[];
  change_id bigint;
  payload text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    ${collect(keys, 'new_rows', 'k')}
    ${collect(tags, 'new_rows', 't')}
  ELSIF TG_OP = 'UPDATE' THEN
    ${collect(keys, both, 'k')}
    ${collect(tags, both, 't')}
  ELSIF TG_OP = 'DELETE' THEN
    ${collect(keys, 'old_rows', 'k')}
    ${collect(tags, 'old_rows', 't')}
  ELSE
    k := '{}';
    t := ARRAY[${tableWide.join(', ')}]::text[];
  END IF;
  IF TG_OP <> 'TRUNCATE' AND cardinality(k) = 0 AND cardinality(t) = 0 THEN
    RETURN NULL;
  END IF;
  INSERT INTO ${changes} (table_name, op, keys, tags)
    VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP, k, t)
    RETURNING id INTO change_id;
  payload := json_build_object('id', change_id, 'op', TG_OP, 'keys', k, 'tags', t)::text;
  IF octet_length(payload) > ${MAX_INLINE_PAYLOAD} THEN
    payload := json_build_object('id', change_id)::text;
  END IF;
  PERFORM pg_notify(${quoteLiteral(channel)}, payload);
  RETURN NULL;
END
$cachewire$`
}
