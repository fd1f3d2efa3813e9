import { once } from 'node:events'
import { spawn } from 'node:child_process'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from '../src/resilience/circuit-breaker.js'
import { raceDeadline, withDeadline, type DeadlineWatch } from '../src/resilience/deadline.js'
import { ErrorThrottle } from '../src/resilience/error-throttle.js'
import {
  CachewireError,
  DecodeError,
  InvalidOptionError,
  StoreTimeoutError,
} from '../src/errors.js'

describe('CircuitBreaker', () => {
  it('opens after failureThreshold consecutive failures', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, breakDuration: 1000, clock: () => 0 })
    breaker.failure()
    breaker.failure()
    expect(breaker.state).toBe('closed')
    breaker.failure()
    expect(breaker.state).toBe('open')
    expect(breaker.allow()).toBe(false)
  })

  it('resets the failure count on success', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, clock: () => 0 })
    breaker.failure()
    breaker.success()
    breaker.failure()
    expect(breaker.state).toBe('closed')
  })

  it('lets one probe through after breakDuration and closes on its success', () => {
    let now = 0
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      breakDuration: 1000,
      clock: () => now,
    })
    breaker.failure()
    now = 999
    expect(breaker.allow()).toBe(false)
    now = 1000
    expect(breaker.state).toBe('half-open')
    expect(breaker.allow()).toBe(true)
    expect(breaker.allow()).toBe(false)
    breaker.success()
    expect(breaker.state).toBe('closed')
  })

  it('opens again when the probe fails', () => {
    let now = 0
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      breakDuration: 1000,
      clock: () => now,
    })
    breaker.failure()
    now = 1000
    expect(breaker.allow()).toBe(true)
    breaker.failure()
    expect(breaker.state).toBe('open')
    now = 1500
    expect(breaker.allow()).toBe(false)
  })

  it('rejects bad options by name', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0 })).toThrow(
      /options\.breaker\.failureThreshold/
    )
    expect(() => new CircuitBreaker({ breakDuration: -1 })).toThrow(InvalidOptionError)
    expect(() => new CircuitBreaker({ breakDuration: '2s', maxBreakDuration: '1s' })).toThrow(
      /options\.breaker\.maxBreakDuration/
    )
  })

  it('opens short at first, and doubles the open period on each failed probe up to the cap', () => {
    let now = 0
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      breakDuration: 200,
      maxBreakDuration: 1000,
      clock: () => now,
    })
    expect(breaker.failure()).toBe(true)
    const periods: number[] = []
    for (let i = 0; i < 5; i++) {
      periods.push(breaker.openForMs)
      now += breaker.retryInMs
      expect(breaker.allow()).toBe(true)
      expect(breaker.failure()).toBe(true)
    }
    expect(periods).toEqual([200, 400, 800, 1000, 1000])
  })

  it('starts again from the short period after a successful probe', () => {
    let now = 0
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      breakDuration: 200,
      maxBreakDuration: 1000,
      clock: () => now,
    })
    breaker.failure()
    now += 200
    breaker.allow()
    breaker.failure()
    expect(breaker.openForMs).toBe(400)
    now += 400
    breaker.allow()
    breaker.success()
    breaker.failure()
    expect(breaker.openForMs).toBe(200)
  })

  it('closes at once on close(), whatever its state', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, breakDuration: '1m', clock: () => 0 })
    breaker.failure()
    expect(breaker.state).toBe('open')
    expect(breaker.retryInMs).toBe(60_000)
    breaker.close()
    expect(breaker.state).toBe('closed')
    expect(breaker.allow()).toBe(true)
  })

  it('defaults to a 200 ms first open and a 5 s cap', () => {
    let now = 0
    const breaker = new CircuitBreaker({ failureThreshold: 1, clock: () => now })
    breaker.failure()
    expect(breaker.openForMs).toBe(200)
    for (let i = 0; i < 10; i++) {
      now += breaker.retryInMs
      breaker.allow()
      breaker.failure()
    }
    expect(breaker.openForMs).toBe(5000)
  })
})

describe('ErrorThrottle', () => {
  it('passes the first error of a kind, holds the rest for the interval, then counts them', () => {
    let now = 0
    const throttle = new ErrorThrottle(() => now, 1000)
    expect(throttle.admit('a')).toEqual({ emit: true, suppressed: 0 })
    expect(throttle.admit('a').emit).toBe(false)
    expect(throttle.admit('b').emit).toBe(true)
    expect(throttle.admit('a').emit).toBe(false)
    now = 1000
    expect(throttle.admit('a')).toEqual({ emit: true, suppressed: 2 })
  })
})

const PONG_SERVER = `
const server = require('node:net').createServer((socket) => socket.on('data', () => socket.write('+PONG\\r\\n')))
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port)))
`

describe('withDeadline', () => {
  it('rejects with StoreTimeoutError when the operation is slower than the deadline', async () => {
    const slow = new Promise((resolve) => setTimeout(resolve, 200, 'late'))
    await expect(withDeadline(slow, 10, 'get')).rejects.toBeInstanceOf(StoreTimeoutError)
  })

  it('passes a fast result and a fast rejection through', async () => {
    await expect(withDeadline(Promise.resolve(1), 50, 'get')).resolves.toBe(1)
    await expect(withDeadline(Promise.reject(new Error('boom')), 50, 'get')).rejects.toThrow('boom')
  })

  it('takes a reply that reached the socket before an overdue timer fired (a busy process is not a sick store)', async () => {
    // The answering side lives in another process, so it replies while this one is blocked.
    const server = spawn(process.execPath, ['-e', PONG_SERVER], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const [port] = (await once(server.stdout, 'data')) as [Buffer]
    const socket = net.connect(Number(String(port)), '127.0.0.1')
    await once(socket, 'connect')
    try {
      const reply = new Promise<string>((resolve) =>
        socket.once('data', (data) => resolve(String(data)))
      )
      socket.write('PING\r\n')
      const guarded = withDeadline(reply, 10, 'get')
      // The event loop is blocked past the deadline while the reply arrives: when it turns, the
      // timer is due and the reply is waiting in the socket.
      const until = Date.now() + 60
      while (Date.now() < until) {
        // busy, as a saturated server is
      }
      await expect(guarded).resolves.toBe('+PONG\r\n')
    } finally {
      socket.destroy()
      server.kill()
    }
  })
})

describe('withDeadline(..., { start: "after-send" })', () => {
  const busy = (ms: number): void => {
    const until = Date.now() + ms
    while (Date.now() < until) {
      // the rest of this turn: a burst of calls queueing behind the command
    }
  }

  it('counts from after this turn, so a busy turn is not charged to the store', async () => {
    let answer: (value: string) => void = () => {}
    const operation = new Promise<string>((resolve) => (answer = resolve))
    const guarded = withDeadline(operation, 200, 'get', { start: 'after-send' })
    busy(300)
    setTimeout(() => answer('v'), 50)
    await expect(guarded).resolves.toBe('v')
  })

  it('still fires when the store does not answer', async () => {
    await expect(
      withDeadline(new Promise(() => {}), 20, 'get', { start: 'after-send' })
    ).rejects.toBeInstanceOf(StoreTimeoutError)
  })

  it('by default counts from the call', async () => {
    let answer: (value: string) => void = () => {}
    const operation = new Promise<string>((resolve) => (answer = resolve))
    const guarded = withDeadline(operation, 200, 'get')
    busy(300)
    setTimeout(() => answer('v'), 50)
    await expect(guarded).rejects.toBeInstanceOf(StoreTimeoutError)
  })
})

describe('calls of one turn with after-send deadlines (one timer for the group)', () => {
  const pending = <T>(): { promise: Promise<T>; answer: (value: T) => void } => {
    let answer: (value: T) => void = () => {}
    const promise = new Promise<T>((resolve) => (answer = resolve))
    return { promise, answer }
  }

  it('times out only the calls still unanswered, each with its own name', async () => {
    const answered = pending<string>()
    const hung = pending<string>()
    const calls = [
      withDeadline(answered.promise, 40, 'get', { start: 'after-send' }),
      withDeadline(hung.promise, 40, 'set', { start: 'after-send' }),
      withDeadline(Promise.reject(new Error('boom')), 40, 'del', { start: 'after-send' }),
    ]
    answered.answer('v')
    const [first, second, third] = await Promise.allSettled(calls)
    expect(first).toEqual({ status: 'fulfilled', value: 'v' })
    expect(second?.status).toBe('rejected')
    const timedOut = (second as PromiseRejectedResult).reason as unknown
    expect(timedOut).toBeInstanceOf(StoreTimeoutError)
    expect(String(timedOut)).toContain('store set did not answer')
    expect((third as PromiseRejectedResult).reason).toEqual(new Error('boom'))
  })

  it('gives each deadline of the turn its own timer', async () => {
    const short = withDeadline(new Promise(() => {}), 20, 'short', { start: 'after-send' })
    const long = pending<string>()
    const longCall = withDeadline(long.promise, 5_000, 'long', { start: 'after-send' })
    await expect(short).rejects.toBeInstanceOf(StoreTimeoutError)
    long.answer('late but in time')
    await expect(longCall).resolves.toBe('late but in time')
  })

  it('tells the watch once how each call ended, and a reply after the deadline only frees its slot', async () => {
    const seen: string[] = []
    const watch = (label: string): DeadlineWatch => ({
      settled: () => seen.push(`${label} settled`),
      resolved: () => seen.push(`${label} resolved`),
      rejected: (error) => seen.push(`${label} rejected ${(error as Error).name}`),
    })
    const fast = pending<number>()
    const slow = pending<number>()
    const fastCall = raceDeadline(fast.promise, 30, 'get', true, watch('fast'))
    const slowCall = raceDeadline(slow.promise, 30, 'get', true, watch('slow'))
    fast.answer(1)
    await expect(fastCall).resolves.toBe(1)
    await expect(slowCall).rejects.toBeInstanceOf(StoreTimeoutError)
    slow.answer(2)
    await slow.promise
    await new Promise((resolve) => setImmediate(resolve))
    expect(seen).toEqual([
      'fast settled',
      'fast resolved',
      'slow rejected StoreTimeoutError',
      'slow settled',
    ])
  })

  it('fails the call with the error of a watch that throws, instead of leaving it unhandled', async () => {
    const watch: DeadlineWatch = {
      settled: () => {},
      resolved: () => {
        throw new Error('observer broke on success')
      },
      rejected: () => {
        throw new Error('observer broke on failure')
      },
    }
    await expect(raceDeadline(Promise.resolve(1), 50, 'get', true, watch)).rejects.toThrow(
      'observer broke on success'
    )
    await expect(
      raceDeadline(Promise.reject(new Error('no')), 50, 'get', true, watch)
    ).rejects.toThrow('observer broke on failure')
    await expect(raceDeadline(new Promise(() => {}), 10, 'get', false, watch)).rejects.toThrow(
      'observer broke on failure'
    )
  })

  it('tells the watch without a deadline too', async () => {
    const seen: string[] = []
    const watch: DeadlineWatch = {
      settled: () => seen.push('settled'),
      resolved: () => seen.push('resolved'),
      rejected: () => seen.push('rejected'),
    }
    await expect(raceDeadline(Promise.resolve(1), Infinity, 'get', true, watch)).resolves.toBe(1)
    await expect(
      raceDeadline(Promise.reject(new Error('no')), 0, 'get', true, watch)
    ).rejects.toThrow('no')
    expect(seen).toEqual(['settled', 'resolved', 'settled', 'rejected'])
  })
})

describe('CachewireError', () => {
  it('keeps subclass identity under instanceof and exposes a code', () => {
    const error = new StoreTimeoutError('get', 5)
    expect(error).toBeInstanceOf(CachewireError)
    expect(error).toBeInstanceOf(StoreTimeoutError)
    expect(error).not.toBeInstanceOf(DecodeError)
    expect(error.code).toBe('CACHEWIRE_STORE_TIMEOUT')
  })

  it('recognises an error from another copy of the package by its brand', () => {
    const foreign = Object.assign(Object.create(null) as object, {
      [Symbol.for('cachewire.error')]: true,
    })
    expect(foreign).toBeInstanceOf(CachewireError)
  })
})
