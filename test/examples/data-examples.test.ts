import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { describeRedis, redisUrl } from '../setup/redis.js'

const run = promisify(execFile)

/** Runs an example as its `start` script does (tsx index.ts), to the end of its demo. */
async function runExample(name: string, env: Record<string, string> = {}): Promise<string> {
  const cwd = fileURLToPath(new URL(`../../examples/${name}/`, import.meta.url))
  const childEnv: NodeJS.ProcessEnv = { ...process.env, EXIT_AFTER_DEMO: '1', PORT: '0', ...env }
  if (env.REDIS_URL === undefined) delete childEnv.REDIS_URL
  const { stdout } = await run(`${cwd}node_modules/.bin/tsx`, ['index.ts'], {
    cwd,
    env: childEnv,
    timeout: 60_000,
  })
  return stdout
}

function expectRateLimitDemo(stdout: string): void {
  // One quota (5 a minute) shared by the Express and the Koa app: 5 allowed, then 429 with Retry-After.
  expect(
    stdout.match(/ 200 {2}RateLimit: "api";r=\d;t=\d+ {2}RateLimit-Policy: "api";q=5;w=60/g)?.length
  ).toBe(5)
  expect(stdout).toMatch(
    /koa {5}#2 429 {2}RateLimit: "api";r=0;t=(\d+) {2}RateLimit-Policy: "api";q=5;w=60 {2}Retry-After: \1/
  )
}

function expectRevocationDemo(stdout: string): void {
  expect(stdout).toMatch(/warming profiles \[#{30}\] 200\/200/)
  expect(stdout).toMatch(/warmed: 200 loaded, 0 failed/)
  for (const app of ['express', 'koa']) {
    expect(stdout).toMatch(
      new RegExp(`${app}\\s+GET /me before logout: 200 \\{"id":\\d,"name":"user \\d"\\}`)
    )
    expect(stdout).toMatch(
      new RegExp(`${app}\\s+GET /me after logout: {2}401 Unauthorized: the token has been revoked`)
    )
  }
}

describe('examples/rate-limit and examples/token-revocation on memory', () => {
  it('rate-limit: Express and Koa send the RateLimit fields, then 429 with Retry-After', async () => {
    expectRateLimitDemo(await runExample('rate-limit'))
  }, 60_000)

  it('token-revocation: warms with a progress bar; a logged-out token gets 401 on Express and Koa', async () => {
    expectRevocationDemo(await runExample('token-revocation'))
  }, 60_000)
})

describeRedis('examples/rate-limit and examples/token-revocation on Redis', () => {
  it('rate-limit counts in Redis', async () => {
    const stdout = await runExample('rate-limit', { REDIS_URL: redisUrl() })
    expect(stdout).toMatch(/store: redis/)
    expectRateLimitDemo(stdout)
  }, 60_000)

  it('token-revocation: a second list sharing the revocations sees each at once', async () => {
    const stdout = await runExample('token-revocation', { REDIS_URL: redisUrl() })
    expectRevocationDemo(stdout)
    expect(stdout.match(/the other list says revoked: true/g)?.length).toBe(2)
  }, 60_000)
})
