/**
 * A PostgreSQL server per test file, from the installed binaries (`initdb` into a temporary
 * directory, the server on a free loopback port, stopped by PID): `@cachewire/postgres/testing`'s
 * `startTemporaryPostgres`, whose watchdog also removes everything if the test process dies.
 *
 * Missing binaries: a loud skip on a laptop, a failing test under CI=true (`.ci/run` installs
 * Debian's `postgresql` package), the same rule as Redis (setup/redis.ts).
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import {
  findPostgresBinaries,
  startTemporaryPostgres,
  type TemporaryPostgres,
} from '@cachewire/postgres/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerCleanup } from '../setup/cleanup.js'
import { requireRedis } from '../setup/redis.js'

const run = promisify(execFile)

/**
 * `describe` that runs when the PostgreSQL binaries are installed and Redis answers; a loud skip
 * otherwise, a failure under CI=true.
 */
export function describePostgres(name: string, fn: () => void): void {
  const found = findPostgresBinaries()
  let problem = found.binDir === undefined ? `PostgreSQL: ${found.reason}` : undefined
  if (problem === undefined) {
    try {
      if (!requireRedis()) problem = 'Redis is not reachable'
    } catch (error) {
      problem = String(error)
    }
  }
  if (problem === undefined) {
    describe(name, fn)
    return
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has PostgreSQL and Redis', () => {
        throw new Error(`required under CI=true: ${problem}`)
      })
    })
    return
  }
  console.error(
    `\n!!! SKIPPING PostgreSQL tests in ${expect.getState().testPath ?? name}: ${problem}\n`
  )
  describe.skip(name, fn)
}

/** A server for this file: started in beforeAll, stopped (and its directory removed) in afterAll. */
export function usePostgres(): { server: TemporaryPostgres; url: string } {
  const handle = {} as { server: TemporaryPostgres; url: string }
  beforeAll(async () => {
    handle.server = await startTemporaryPostgres()
    handle.url = handle.server.url
  }, 120_000)
  afterAll(async () => {
    await handle.server?.stop()
  })
  return handle
}

/** A pool on `url` (or a proxy's port), ended when the test (or file) finishes. */
export function createPool(url: string, options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4, ...options })
  pool.on('error', () => {}) // an idle client's connection reset must not crash the test process
  registerCleanup(() => pool.end().catch(() => {}))
  return pool
}

/** Runs SQL through `psql`, as another program changing the database would. Resolves its output. */
export async function psql(url: string, sql: string): Promise<string> {
  const binDir = findPostgresBinaries().binDir as string
  const { stdout } = await run(
    join(binDir, 'psql'),
    ['--no-psqlrc', '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
    { env: { ...process.env, PGCONNECT_TIMEOUT: '5' } }
  )
  return stdout.trim()
}
