import type { ChangesTables } from './changes-table.js'
import type { Queryable } from './sql.js'

/**
 * Bounds the changes table: removes rows older than `retentionMs`, and the oldest past `maxRows`.
 * One process prunes at a time (an advisory lock; the others skip). The highest id removed is kept
 * as the `pruned` watermark, so a listener that comes back after it knows it missed changes.
 */
export async function prune(
  client: Queryable,
  tables: ChangesTables,
  limits: { retentionMs: number; maxRows: number }
): Promise<number> {
  const { changes, state } = tables
  await client.query('BEGIN')
  try {
    const locked = await client.query<{ locked: boolean }>(
      `SELECT pg_try_advisory_xact_lock(hashtext('cachewire:prune:' || $1)) AS locked`,
      [changes.text]
    )
    if (locked.rows[0]?.locked !== true) {
      await client.query('COMMIT')
      return 0
    }
    const removed = await client.query<{ count: string; max: string | null }>(
      `WITH gone AS (
         DELETE FROM ${changes.sql}
          WHERE created_at < now() - make_interval(secs => $1)
             OR id <= (SELECT max(id) - $2 FROM ${changes.sql})
         RETURNING id)
       SELECT count(*)::text AS count, max(id)::text AS max FROM gone`,
      [limits.retentionMs / 1000, limits.maxRows]
    )
    const max = removed.rows[0]?.max ?? null
    if (max !== null) {
      await client.query(
        `INSERT INTO ${state.sql} (name, last_id) VALUES ('pruned', $1)
           ON CONFLICT (name) DO UPDATE SET last_id = GREATEST(${state.sql}.last_id, EXCLUDED.last_id)`,
        [max]
      )
    }
    await client.query('COMMIT')
    return Number(removed.rows[0]?.count ?? 0)
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}
