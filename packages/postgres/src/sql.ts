import { InvalidOptionError } from '@cachewire/core'
import type { PoolClient, QueryResult, QueryResultRow } from 'pg'

/** Anything that runs a query: a `pg` Pool, Client or PoolClient. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[]
  ): Promise<QueryResult<R>>
}

/** Where a transaction's connection comes from: a `pg` Pool (or anything with its `connect()`). */
export interface ConnectionSource {
  connect(): Promise<PoolClient>
}

/** A table name as the user wrote it (`users` or `app.users`), quoted for SQL and split for the catalog. */
export interface TableName {
  schema: string | undefined
  name: string
  /** `"app"."users"` */
  sql: string
  /** `app.users` (or `users`), for messages and the changes table. */
  text: string
}

/** PostgreSQL folds unquoted names to lower case; we only take plain ones, so there is no quoting surprise. */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/

/** `"name"`: an identifier, double quotes doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** `'text'`: a string literal, single quotes doubled (standard_conforming_strings is on since 9.1). */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`
}

/** Reads `users` or `schema.users`; refuses anything else, naming the option. */
export function parseTableName(value: unknown, option: string): TableName {
  if (typeof value !== 'string')
    throw new InvalidOptionError(option, "a table name like 'users' or 'app.users'", value)
  const parts = value.split('.')
  if (parts.length > 2 || !parts.every((part) => PLAIN_NAME.test(part))) {
    throw new InvalidOptionError(
      option,
      "a table name like 'users' or 'app.users' (letters, digits, _ and $)",
      value
    )
  }
  const [schema, name] =
    parts.length === 2 ? [parts[0], parts[1] as string] : [undefined, parts[0] as string]
  const lower = { schema: schema?.toLowerCase(), name: name.toLowerCase() }
  return {
    ...lower,
    sql:
      lower.schema === undefined
        ? quoteIdentifier(lower.name)
        : `${quoteIdentifier(lower.schema)}.${quoteIdentifier(lower.name)}`,
    text: lower.schema === undefined ? lower.name : `${lower.schema}.${lower.name}`,
  }
}

/** Reads a column name; plain names only, as for tables. */
export function parseColumnName(value: unknown, option: string): string {
  if (typeof value !== 'string' || !PLAIN_NAME.test(value))
    throw new InvalidOptionError(option, 'a column name (letters, digits, _ and $)', value)
  return value.toLowerCase()
}

/** A NOTIFY channel: a plain name, so `LISTEN` and `pg_notify` agree on it. */
export function parseChannel(value: unknown, option: string): string {
  if (typeof value !== 'string' || !PLAIN_NAME.test(value))
    throw new InvalidOptionError(option, 'a channel name (letters, digits, _ and $)', value)
  return value.toLowerCase()
}

/** The columns a table has, from the catalog (for checking templates and row mappings at install time). */
export async function tableColumns(db: Queryable, table: TableName): Promise<Set<string>> {
  const result = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema())`,
    [table.name, table.schema ?? null]
  )
  return new Set(result.rows.map((row) => row.column_name))
}

const ignore = (): void => {}

/**
 * A pooled connection for one unit of work. While it is checked out the pool does not listen for its
 * errors, and a connection reset then surfaces twice: as the failed query's rejection, which the
 * caller handles, and as an 'error' event, which would crash the process. This swallows the event
 * (the rejection says it all) until `checkIn`, where the pool's own listener takes over again.
 */
export async function checkOut(pool: ConnectionSource): Promise<PoolClient> {
  const client = await pool.connect()
  client.on('error', ignore)
  return client
}

/** Gives a connection back; with an error, the pool closes it instead of reusing it. */
export function checkIn(client: PoolClient, error?: Error): void {
  client.off('error', ignore)
  client.release(error)
}
