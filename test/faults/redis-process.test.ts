import { expect, it } from 'vitest'
import { startRedisProcess } from '../helpers/redis-process.js'

// The fault tests' private redis-server: one that cannot start must fail the test that asked for
// it, with the reason, not leave its clients reconnecting until the test's timeout.
it('a redis-server that exits at start fails startRedisProcess, saying so for each port tried', async () => {
  const failed = startRedisProcess({ args: ['--no-such-option', 'x'] })
  await expect(failed).rejects.toThrow(/^redis-server did not start: port \d+: exited \(1\)/)
  await expect(failed).rejects.toThrow(/(port \d+: exited \(1\) before answering(; )?){5}/)
})

it('a redis-server that starts has a PID, and a new one after a restart on its port', async () => {
  const server = await startRedisProcess()
  const first = server.pid()
  expect(first).toBeGreaterThan(0)
  await server.stop()
  await server.start()
  expect(server.pid()).not.toBe(first)
  expect(server.url).toBe(`redis://127.0.0.1:${server.port}`)
})
