import { afterEach, describe, expect, it } from 'vitest'
import { StoreUnavailableError } from '../src/errors.js'
import type { RedisDriver, RedisNodeConnection } from '../src/stores/redis-driver.js'
import { RedisRunner } from '../src/stores/redis-runner.js'

/**
 * The runner's breakers against a Cluster's slot map that changes under them. The "Redis" here is
 * the command each test hands to `run` and a PING that answers: what is tested is when the runner
 * probes and when it lets calls through, not any Redis feature (the Cluster fault suite in
 * test/faults drives a real Cluster).
 */
function clusterMap(): { driver: RedisDriver; master: { now: boolean }; pings: () => number } {
  const master = { now: true }
  let pings = 0
  const connection: RedisNodeConnection = {
    send: () => {
      pings++
      return Promise.resolve('PONG')
    },
    pipeline: () => Promise.resolve([]),
  }
  const driver = {
    isCluster: true,
    nodeOf: () => '127.0.0.1:7001',
    connection: () => (master.now ? connection : undefined),
    masters: () => (master.now ? [{ node: '127.0.0.1:7001', connection }] : []),
    probeKey: () => undefined,
    connecting: () => undefined,
    refreshSlots: () => {},
    onNodeReady: () => {},
    close: () => {},
  } as unknown as RedisDriver
  return { driver, master, pings: () => pings }
}

const runners: RedisRunner[] = []
afterEach(() => {
  for (const runner of runners.splice(0)) runner.close()
})

function runnerOn(driver: RedisDriver): RedisRunner {
  const runner = new RedisRunner(
    { read: driver, write: driver },
    {
      timeoutMs: 10_000,
      maxInFlight: 8,
      maxQueue: 100,
      queueTimeoutMs: 10_000,
      breaker: { failureThreshold: 1, breakDurationMs: 50, maxBreakDurationMs: 50 },
      prefix: 'test:',
    }
  )
  runners.push(runner)
  return runner
}

/** Reads until one goes through (resolves true), or `withinMs` passes (false). Not a deadline on Redis: room for a busy machine. */
async function readsAgain(runner: RedisRunner, withinMs: number): Promise<boolean> {
  const until = performance.now() + withinMs
  while (performance.now() < until) {
    const answer = await runner
      .run('read', 'test:k:a', 'get', () => Promise.resolve('value'))
      .catch((error: unknown) => {
        if (!(error instanceof StoreUnavailableError)) throw error
        return undefined
      })
    if (answer === 'value') return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

describe('RedisRunner: a node that is briefly not a master in the slot map', () => {
  it('is probed again once its calls are done, so its keys are read again when it is a master again', async () => {
    const { driver, master, pings } = clusterMap()
    const runner = runnerOn(driver)
    // A call that stays out (ioredis retrying CLUSTERDOWN), and one that fails: the breaker opens.
    let answerSlowCall = (_value: string): void => {}
    const slowCall = runner.run(
      'read',
      'test:k:slow',
      'get',
      () => new Promise<string>((resolve) => (answerSlowCall = resolve))
    )
    await expect(
      runner.run('read', 'test:k:a', 'get', () => Promise.reject(new Error('connection lost')))
    ).rejects.toThrow('connection lost')
    expect(runner.health().breakers).toContainEqual(
      expect.objectContaining({ direction: 'read', state: 'open' })
    )

    // Its probe comes while a stale slot map names another master for its slots.
    master.now = false
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(pings()).toBe(0)

    // The map is right again and the call that was out has its answer.
    answerSlowCall('late')
    await expect(slowCall).resolves.toBe('late')
    master.now = true
    expect(await readsAgain(runner, 5000)).toBe(true)
    expect(runner.health().breakers).not.toContainEqual(expect.objectContaining({ state: 'open' }))
  })

  it('is forgotten once its calls are done while it stays out of the map: a new master of its name starts closed', async () => {
    const { driver, master } = clusterMap()
    const runner = runnerOn(driver)
    await expect(
      runner.run('read', 'test:k:a', 'get', () => Promise.reject(new Error('connection lost')))
    ).rejects.toThrow('connection lost')
    master.now = false
    // The probe finds nothing out and no master of that name: the node's state goes.
    const until = performance.now() + 5000
    while (runner.health().breakers.length > 0 && performance.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 20))
    expect(runner.health().breakers).toEqual([])
    master.now = true
    await expect(
      runner.run('read', 'test:k:a', 'get', () => Promise.resolve('value'))
    ).resolves.toBe('value')
  })
})
