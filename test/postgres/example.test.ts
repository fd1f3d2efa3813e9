import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { describePostgres } from '../helpers/postgres.js'

const run = promisify(execFile)
const example = fileURLToPath(new URL('../../examples/data-postgres/', import.meta.url))

describePostgres('examples/data-postgres', () => {
  it('runs with one command, starting and removing its own PostgreSQL when DATABASE_URL is unset', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env }
    delete env.DATABASE_URL
    const { stdout } = await run(`${example}node_modules/.bin/tsx`, ['index.ts'], {
      cwd: example,
      env,
      timeout: 120_000,
    })
    const port = /PostgreSQL started on port (\d+)/.exec(stdout)?.[1]
    expect(port).toBeDefined()
    expect(stdout).toMatch(
      /write-through: rolled back \(insufficient funds\), cache\s+\{"id":1,"name":"Ada","balance":100\}/
    )
    expect(stdout).toMatch(
      /cache-aside: user 2 reloaded\s+\{"id":2,"name":"Grace Hopper","balance":130\}/
    )
    expect(stdout).toMatch(/write-behind: close\(\)\s+\{"clean":true/)
    expect(stdout).toMatch(/rows in example_visits, sink stats\s+\{"rows":250,/)
    // Its server is gone: nothing listens on that port any more.
    await expect(
      run('node', [
        '-e',
        `require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`,
      ])
    ).rejects.toThrow()
  }, 120_000)
})
