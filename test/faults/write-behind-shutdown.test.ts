import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { beforeAll, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { createClient, deleteKeysWithPrefix, describeRedis, redisUrl, uniquePrefix } from '../setup/redis.js'

const worker = fileURLToPath(new URL('./fixtures/write-behind-worker.mjs', import.meta.url))

function start(env: Record<string, string>): { child: ChildProcess; message: Promise<Record<string, unknown>> } {
  const child = fork(worker, [], { env: { ...process.env, REDIS_URL: redisUrl(), ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const message = once(child, 'message').then(([value]) => value as Record<string, unknown>)
  return { child, message }
}

describeRedis('write-behind across process shutdown and crash', () => {
  let redis: Redis
  beforeAll(() => {
    redis = createClient()
  })

  it('persists all 10,000 acknowledged writes when the process gets SIGTERM', async () => {
    const prefix = uniquePrefix('wb-sigterm')
    const { child, message } = start({ PREFIX: prefix, MODE: 'sigterm', WRITES: '10000' })
    const report = await message
    expect(report.acknowledged).toBe(10_000)
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const [code, signal] = await exited
    // The writer drains, then re-raises SIGTERM so the process ends the way the signal asks.
    expect(signal === 'SIGTERM' || code === 0).toBe(true)
    expect(await redis.hlen(`${prefix}db`)).toBe(10_000)
    await deleteKeysWithPrefix(redis, prefix)
  })

  it('replays every acknowledged write after kill -9 when the journal is on', async () => {
    const prefix = uniquePrefix('wb-crash')
    const crashed = start({ PREFIX: prefix, MODE: 'crash', WRITES: '10000' })
    const report = await crashed.message
    expect(report.acknowledged).toBe(10_000)
    const exited = once(crashed.child, 'exit')
    crashed.child.kill('SIGKILL')
    await exited
    const persistedBeforeCrash = await redis.hlen(`${prefix}db`)
    expect(persistedBeforeCrash).toBeLessThan(10_000)

    const recovered = start({ PREFIX: prefix, MODE: 'recover' })
    const summary = await recovered.message
    await once(recovered.child, 'exit')
    expect(Number(summary.replayed)).toBeGreaterThanOrEqual(10_000 - persistedBeforeCrash)
    expect(await redis.hlen(`${prefix}db`)).toBe(10_000)
    // Everything persisted is acknowledged: nothing is left to replay.
    expect(await redis.xlen(`${prefix}journal`)).toBe(0)
    await deleteKeysWithPrefix(redis, prefix)
  })
})
