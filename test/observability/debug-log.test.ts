/**
 * The `cachewire:*` debug log in a real process: a child Node runs an Express app on the built
 * packages with DEBUG set, sends itself scripted traffic, and we read its stderr.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const TEST_DIR = fileURLToPath(new URL('..', import.meta.url))

const SCRIPT = `
import express from 'express'
import { cacheMiddleware } from '@cachewire/express'
const cache = cacheMiddleware({ ttl: '1m', tags: ['catalog'] })
const app = express()
app.use(cache)
app.get('/products', (_req, res) => res.json([1]))
app.get('/me', (_req, res) => res.set('cache-control', 'private').send('me'))
const server = app.listen(0, '127.0.0.1', async () => {
  const base = 'http://127.0.0.1:' + server.address().port
  await fetch(base + '/products').then((r) => r.text())
  await cache.whenIdle()
  await fetch(base + '/me').then((r) => r.text())
  await fetch(base + '/products', { headers: { cookie: 'a=1' } }).then((r) => r.text())
  await cache.invalidateTags(['catalog'])
  server.close()
})
`

function run(env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      cwd: TEST_DIR,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve(stderr) : reject(new Error(`exit ${code}: ${stderr}`))
    )
  })
}

describe('DEBUG=cachewire:* in a real process', () => {
  it('logs stores, not-stored and bypass reasons (Cache-Status words) and invalidations', async () => {
    const stderr = await run({ DEBUG: 'cachewire:*' })
    const lines = stderr
      .trim()
      .split('\n')
      .map((line) => line.replace(/^\S+ /, ''))
    expect(lines).toContainEqual(
      expect.stringMatching(/^cachewire:store stored GET \/products: \d+ bytes in \d+ms$/)
    )
    expect(lines).toContain('cachewire:store not stored GET /me: private')
    expect(lines).toContain('cachewire:bypass GET /products: cookie')
    expect(lines).toContainEqual(
      expect.stringMatching(/^cachewire:invalidate \{"tags":\["catalog"\],"removed":1\}$/)
    )
  })

  it('honours exclusions, and is silent without DEBUG', async () => {
    const onlyBypass = await run({ DEBUG: 'cachewire:*,-cachewire:store,-cachewire:invalidate' })
    expect(
      onlyBypass
        .trim()
        .split('\n')
        .map((line) => line.replace(/^\S+ /, ''))
    ).toEqual(['cachewire:bypass GET /products: cookie'])
    expect(await run({})).toBe('')
  })
})
