import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const run = promisify(execFile)
const example = fileURLToPath(new URL('../../examples/fastify-memory/', import.meta.url))

it('examples/fastify-memory runs with one command: a miss, a hit, a 304, a route policy and a tag purge, then exits', async () => {
  const env = { ...process.env, EXIT_AFTER_DEMO: '1', PORT: '0' }
  const { stdout } = await run(`${example}node_modules/.bin/tsx`, ['index.ts'], {
    cwd: example,
    env,
    timeout: 60_000,
  })
  const lines = stdout.split('\n').filter((line) => /^(GET|POST) /.test(line))
  const labels = lines.map((line) => line.replace(/\s+/g, ' ').split(' ').slice(0, 4).join(' '))
  expect(labels).toEqual([
    'GET /products 200 MISS',
    'GET /products 200 HIT',
    'GET /products 304 HIT',
    'GET /users/1 200 MISS',
    'GET /users/1 200 HIT',
    'POST /users/1/purge 200 BYPASS',
    'GET /users/1 200 MISS',
  ])
  expect(lines[3]).toMatch(/cachewire; fwd=uri-miss; fwd-status=200; stored; ttl=300$/)
}, 60_000)
