import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { registerCleanup } from '../setup/cleanup.js'
import {
  createClient,
  deleteKeysWithPrefix,
  describeRedis,
  redisUrl,
  uniquePrefix,
} from '../setup/redis.js'

const worker = fileURLToPath(new URL('./fixtures/write-behind-worker.mjs', import.meta.url))

interface Worker {
  child: ChildProcess
  message: Promise<Record<string, unknown>>
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stderr: () => string
}

function start(env: Record<string, string>): Worker {
  const child = fork(worker, [], {
    env: { ...process.env, REDIS_URL: redisUrl(), ...env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    process.stderr.write(chunk)
  })
  const message = once(child, 'message').then(([value]) => value as Record<string, unknown>)
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }))
  registerCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { child, message, exit, stderr: () => stderr }
}

async function spillDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'cachewire-spill-'))
  registerCleanup(() => rm(directory, { recursive: true, force: true }))
  return directory
}

/** Rows in the stand-in database, and how many keys were applied more than once. */
async function database(redis: Redis, prefix: string): Promise<{ rows: number; doubled: number }> {
  const applies = await redis.hvals(`${prefix}applies`)
  return {
    rows: await redis.hlen(`${prefix}db`),
    doubled: applies.filter((count) => Number(count) > 1).length,
  }
}

describeRedis('write-behind across process shutdown and crash', () => {
  let redis: Redis
  beforeAll(() => {
    redis = createClient()
  })

  it('persists all 10,000 acknowledged writes on SIGTERM and exits 0', async () => {
    const prefix = uniquePrefix('wb-sigterm')
    const writer = start({ PREFIX: prefix, WRITES: '10000' })
    expect((await writer.message).acknowledged).toBe(10_000)
    writer.child.kill('SIGTERM')
    expect(await writer.exit).toEqual({ code: 0, signal: null })
    expect(await database(redis, prefix)).toEqual({ rows: 10_000, doubled: 0 })
    await deleteKeysWithPrefix(redis, prefix)
  })

  it('runs one flush for a second SIGTERM 300 ms into the first: all 10,000 persisted, exit 0', async () => {
    const prefix = uniquePrefix('wb-double-sigterm')
    // 50 batches of 200 at 40 ms each: the flush takes about 2 s, so the second signal lands mid-flush.
    const writer = start({ PREFIX: prefix, WRITES: '10000', PERSIST_DELAY_MS: '40' })
    expect((await writer.message).acknowledged).toBe(10_000)
    writer.child.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(writer.child.exitCode).toBeNull() // still flushing
    writer.child.kill('SIGTERM')
    expect(await writer.exit).toEqual({ code: 0, signal: null })
    expect(writer.stderr()).toMatch(/SIGTERM received again while flushing/)
    expect(await database(redis, prefix)).toEqual({ rows: 10_000, doubled: 0 })
    await deleteKeysWithPrefix(redis, prefix)
  })

  it('leaves the exit to an app that handles SIGTERM itself: its close() is the same flush', async () => {
    const prefix = uniquePrefix('wb-app-handler')
    const writer = start({
      PREFIX: prefix,
      WRITES: '2000',
      PERSIST_DELAY_MS: '20',
      APP_HANDLER: '7',
    })
    expect((await writer.message).acknowledged).toBe(2000)
    writer.child.kill('SIGTERM')
    expect(await writer.exit).toEqual({ code: 7, signal: null })
    expect(await database(redis, prefix)).toEqual({ rows: 2000, doubled: 0 })
    const [result] = await redis.lrange(`${prefix}app-handler`, 0, -1)
    expect(JSON.parse(result as string)).toMatchObject({ clean: true, unpersisted: 0 })
    await deleteKeysWithPrefix(redis, prefix)
  })

  it('spills what a hung database left at the deadline, with the exact count, exits non-zero, and the next start replays it', async () => {
    const prefix = uniquePrefix('wb-hung')
    const spillFile = join(await spillDirectory(), 'items.spill')
    // 5 batches (1,000 writes) land, then the database hangs.
    const writer = start({
      PREFIX: prefix,
      WRITES: '10000',
      HANG_AFTER_BATCHES: '5',
      SPILL_FILE: spillFile,
      SHUTDOWN_TIMEOUT: '1s',
    })
    expect((await writer.message).acknowledged).toBe(10_000)
    const signalled = Date.now()
    writer.child.kill('SIGTERM')
    const exit = await writer.exit
    expect(exit.code).toBe(1)
    const persistedBefore = (await database(redis, prefix)).rows
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(1000) // the deadline, not before
    const line = /with (\d+) write\(s\) unpersisted: (\d+) spilled to (\S+);/.exec(writer.stderr())
    expect(line).not.toBeNull()
    const [, unpersisted, spilled] = line as RegExpExecArray
    expect(Number(unpersisted)).toBe(10_000 - persistedBefore)
    expect(Number(spilled)).toBe(10_000 - persistedBefore)
    expect(await readdir(join(spillFile, '..'))).toHaveLength(1)

    const next = start({ PREFIX: prefix, MODE: 'recover', WRITES: '0', SPILL_FILE: spillFile })
    const summary = await next.message
    expect(await next.exit).toEqual({ code: 0, signal: null })
    expect(summary.replayed).toBe(10_000 - persistedBefore)
    expect(await database(redis, prefix)).toEqual({ rows: 10_000, doubled: 0 })
    expect(await readdir(join(spillFile, '..'))).toEqual([]) // replayed, persisted, removed
    await deleteKeysWithPrefix(redis, prefix)
  })

  it('keeps versions increasing across a restart whose clock runs an hour behind', async () => {
    const prefix = uniquePrefix('wb-versions')
    const spillFile = join(await spillDirectory(), 'items.spill')
    const first = start({
      PREFIX: prefix,
      WRITES: '1000',
      VALUE: 'first',
      HANG_AFTER_BATCHES: '0',
      SPILL_FILE: spillFile,
      SHUTDOWN_TIMEOUT: '500ms',
    })
    await first.message
    first.child.kill('SIGTERM')
    expect((await first.exit).code).toBe(1)

    // The restart replays and persists the first run's writes (their versions), then writes every key again.
    const second = start({
      PREFIX: prefix,
      MODE: 'recover',
      WRITES: '1000',
      VALUE: 'second',
      SPILL_FILE: spillFile,
      CLOCK_SKEW_MS: String(-3_600_000),
    })
    const summary = await second.message
    expect(await second.exit).toEqual({ code: 0, signal: null })
    expect(summary.replayed).toBe(1000)
    const values = await redis.hvals(`${prefix}db`)
    expect(values).toHaveLength(1000)
    // Had versions restarted from the skewed clock, the sink would have refused every second write as older.
    expect(values.every((value) => (JSON.parse(value) as { run: string }).run === 'second')).toBe(
      true
    )
    const applies = await redis.hvals(`${prefix}applies`)
    expect(applies.every((count) => count === '2')).toBe(true) // the replayed write, then the newer one
    await deleteKeysWithPrefix(redis, prefix)
  })

  it('replays every acknowledged write after kill -9 when the journal is on', async () => {
    const prefix = uniquePrefix('wb-crash')
    const crashed = start({
      PREFIX: prefix,
      WRITES: '10000',
      JOURNAL: '1',
      PERSIST_DELAY_MS: '200',
    })
    expect((await crashed.message).acknowledged).toBe(10_000)
    crashed.child.kill('SIGKILL')
    await crashed.exit
    const persistedBeforeCrash = await redis.hlen(`${prefix}db`)
    expect(persistedBeforeCrash).toBeLessThan(10_000)

    const recovered = start({ PREFIX: prefix, MODE: 'recover', WRITES: '0', JOURNAL: '1' })
    const summary = await recovered.message
    await recovered.exit
    expect(Number(summary.replayed)).toBeGreaterThanOrEqual(10_000 - persistedBeforeCrash)
    expect(await redis.hlen(`${prefix}db`)).toBe(10_000)
    // Everything persisted is acknowledged: nothing is left to replay.
    expect(await redis.xlen(`${prefix}journal`)).toBe(0)
    await deleteKeysWithPrefix(redis, prefix)
  })
})
