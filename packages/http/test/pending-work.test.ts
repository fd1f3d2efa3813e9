import { describe, expect, test } from 'vitest'
import { PendingWork } from '../src/engine/pending-work.js'

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void
  let reject!: (e: Error) => void
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok
    reject = fail
  })
  return { promise, resolve, reject }
}

describe('PendingWork', () => {
  test('idle resolves at once with nothing pending', async () => {
    const pending = new PendingWork()
    expect(pending.size).toBe(0)
    await expect(pending.idle()).resolves.toBeUndefined()
  })

  test('idle waits for every piece of work, including work added while it waits', async () => {
    const pending = new PendingWork()
    const first = deferred()
    const second = deferred()
    pending.add(first.promise)
    let idle = false
    const waiting = pending.idle().then(() => (idle = true))
    pending.add(second.promise)
    expect(pending.size).toBe(2)
    first.resolve()
    await first.promise
    await Promise.resolve()
    expect(idle).toBe(false)
    expect(pending.size).toBe(1)
    second.resolve()
    await waiting
    expect(idle).toBe(true)
    expect(pending.size).toBe(0)
  })

  test('a rejected piece counts as settled and its error goes to onError, once', async () => {
    const pending = new PendingWork()
    const errors: unknown[] = []
    const work = deferred()
    pending.add(work.promise, (error) => errors.push(error))
    const failure = new Error('write failed')
    work.reject(failure)
    await pending.idle()
    expect(errors).toEqual([failure])
    expect(pending.size).toBe(0)
  })
})
