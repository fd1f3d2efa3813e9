import { describe, expect, it } from 'vitest'
import { StoreUnavailableError } from '../src/errors.js'
import { CommandLane } from '../src/resilience/command-lane.js'

describe('CommandLane', () => {
  it('hands out maxInFlight slots at once, then queues in arrival order', async () => {
    const lane = new CommandLane({ maxInFlight: 2, maxQueue: 10, queueTimeoutMs: 10_000 })
    expect(lane.acquire('read')).toBeUndefined()
    expect(lane.acquire('write')).toBeUndefined()
    const order: number[] = []
    const waits = [1, 2, 3].map((n) =>
      (lane.acquire('read') as Promise<void>).then(() => order.push(n))
    )
    expect({ inFlight: lane.inFlight, queued: lane.queued }).toEqual({ inFlight: 2, queued: 3 })
    lane.release()
    lane.release()
    await Promise.all(waits.slice(0, 2))
    expect(order).toEqual([1, 2])
    lane.release()
    await waits[2]
    expect(order).toEqual([1, 2, 3])
    expect({ inFlight: lane.inFlight, queued: lane.queued }).toEqual({ inFlight: 2, queued: 0 })
  })

  it('refuses one more waiter than maxQueue, as queue-full', async () => {
    const lane = new CommandLane({ maxInFlight: 1, maxQueue: 1, queueTimeoutMs: 10_000 })
    lane.acquire('write')
    const waiting = lane.acquire('write') as Promise<void>
    const refused = lane.acquire('write') as Promise<void>
    await expect(refused).rejects.toMatchObject({ reason: 'queue-full' })
    lane.release()
    await waiting
  })

  it('refuses a waiter that waited longer than queueTimeout, as queue-timeout', async () => {
    const lane = new CommandLane({ maxInFlight: 1, maxQueue: 10, queueTimeoutMs: 30 })
    lane.acquire('read')
    const error = await (lane.acquire('read') as Promise<void>).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect(error).toMatchObject({ reason: 'queue-timeout' })
    expect(lane.queued).toBe(0)
  })

  it('refuses the waiting calls of one direction at once, keeping the others in order', async () => {
    const lane = new CommandLane({ maxInFlight: 1, maxQueue: 10, queueTimeoutMs: 10_000 })
    lane.acquire('read')
    const read = (lane.acquire('read') as Promise<void>).catch((error: unknown) => error)
    const write = lane.acquire('write') as Promise<void>
    lane.rejectWaiting('read', () => new StoreUnavailableError('off', { reason: 'breaker-open' }))
    expect(await read).toMatchObject({ reason: 'breaker-open' })
    lane.release()
    await write
    expect(lane.inFlight).toBe(1)
  })
})
