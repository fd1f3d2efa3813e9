import { InvalidOptionError, type Cache, type SetOptions } from '@cachewire/core'
import type { PoolClient, QueryResult, QueryResultRow } from 'pg'
import { checkIn, checkOut, type ConnectionSource } from './sql.js'

/** Cache changes to make once the transaction has committed; dropped if it rolls back. */
export interface AfterCommit {
  /** Caches `value` under `key` after COMMIT (write-through). If the cache write fails, the key is deleted. */
  set<T>(key: string, value: T, options?: SetOptions): void
  /** Deletes keys after COMMIT. */
  delete(...keys: string[]): void
  /** Invalidates tags after COMMIT, on every process sharing the store. */
  invalidateTags(tags: readonly string[]): void
}

/** What the callback of `withTransaction` works with. */
export interface Transaction {
  /** The transaction's connection. Do not release it, COMMIT or ROLLBACK on it: `withTransaction` does. */
  client: PoolClient
  /** `client.query`, bound. */
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[]
  ): Promise<QueryResult<R>>
  afterCommit: AfterCommit
}

export interface WithTransactionOptions {
  /** Called with errors of the cache changes made after COMMIT; they never fail the call. */
  onCacheError?: (error: unknown) => void
}

type Action =
  | { op: 'set'; key: string; value: unknown; options: SetOptions | undefined }
  | { op: 'delete'; keys: string[] }
  | { op: 'tags'; tags: readonly string[] }

/**
 * Runs `work` in a transaction (BEGIN … COMMIT on one pooled connection) and changes the cache only
 * once COMMIT has succeeded: a rolled-back transaction (an error thrown by `work`, a failed COMMIT
 * the server answered) leaves the cache exactly as it was. When COMMIT's outcome is unknown (the
 * connection dropped while it ran), the cache changes are made as invalidations (a `set` becomes a
 * `delete`) before the error is rethrown: the database may hold either state, so the cache holds
 * neither. Resolves with what `work` returned, after the cache changes are made.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { Cache } from '@cachewire/core'
 * import { withTransaction } from '@cachewire/postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * const cache = new Cache()
 * await withTransaction(pool, cache, async (tx) => {
 *   await tx.query('UPDATE users SET name = $1 WHERE id = $2', ['Ada', 1])
 *   tx.afterCommit.set('user:1', { id: 1, name: 'Ada' }, { tags: ['users'] })
 *   tx.afterCommit.invalidateTags(['user-list'])
 * })
 * ```
 */
export async function withTransaction<R>(
  pool: ConnectionSource,
  cache: Cache,
  work: (tx: Transaction) => Promise<R>,
  options: WithTransactionOptions = {}
): Promise<R> {
  if (typeof pool?.connect !== 'function') throw new InvalidOptionError('pool', 'a pg Pool', pool)
  if (typeof work !== 'function')
    throw new InvalidOptionError('work', 'a function (tx) => Promise', work)
  const onCacheError = options.onCacheError ?? (() => {})
  const actions: Action[] = []
  const client = await checkOut(pool)
  let broken: Error | undefined
  let result: R
  try {
    await client.query('BEGIN')
    const tx: Transaction = {
      client,
      query: (text, values) => client.query(text, values),
      afterCommit: {
        set: (key, value, setOptions) =>
          void actions.push({ op: 'set', key, value, options: setOptions }),
        delete: (...keys) => void actions.push({ op: 'delete', keys }),
        invalidateTags: (tags) => void actions.push({ op: 'tags', tags: [...tags] }),
      },
    }
    try {
      result = await work(tx)
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))
      })
      throw error
    }
    try {
      await client.query('COMMIT')
    } catch (error) {
      if (!serverRolledBack(error)) {
        broken = error instanceof Error ? error : new Error(String(error))
        await apply(cache, actions.map(asInvalidation), onCacheError)
      }
      throw error
    }
  } finally {
    checkIn(client, broken)
  }
  await apply(cache, actions, onCacheError)
  return result
}

/**
 * True when the server answered COMMIT with an ERROR (a serialization failure, a deferred constraint):
 * the transaction is certainly rolled back. A lost connection, or a FATAL such as a terminated
 * backend (class 57) or a connection exception (class 08), leaves the outcome unknown.
 */
function serverRolledBack(error: unknown): boolean {
  const { severity, code } = error as { severity?: unknown; code?: unknown }
  return (
    severity === 'ERROR' &&
    typeof code === 'string' &&
    !code.startsWith('08') &&
    !code.startsWith('57')
  )
}

function asInvalidation(action: Action): Action {
  return action.op === 'set' ? { op: 'delete', keys: [action.key] } : action
}

async function apply(
  cache: Cache,
  actions: Action[],
  onCacheError: (error: unknown) => void
): Promise<void> {
  for (const action of actions) {
    try {
      if (action.op === 'set') {
        if (!(await cache.set(action.key, action.value, action.options)))
          await cache.delete(action.key)
      } else if (action.op === 'delete') {
        for (const key of action.keys) await cache.delete(key)
      } else {
        await cache.invalidateTags(action.tags)
      }
    } catch (error) {
      onCacheError(error)
    }
  }
}
