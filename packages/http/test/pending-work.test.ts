import { describe, expect, test } from 'vitest'
import { PendingWork } from '../src/engine/pending-work.js'
import { RequestCache } from '../src/kit/request-helpers.js'
import type { HttpCache } from '../src/engine/http-cache.js'

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

describe('RequestCache', () => {
  test('a host given as a function is read on the first purgeUrl, once', async () => {
    const hosts: string[] = []
    let reads = 0
    const engine = {
      purgeUrl: (url: string, host: string) => {
        hosts.push(`${host} ${url}`)
        return Promise.resolve({ status: 'applied', removed: 0 })
      },
    } as unknown as HttpCache
    const helpers = new RequestCache(engine, () => {
      reads++
      return 'shop.example.com'
    })
    expect(reads).toBe(0)
    await helpers.purgeUrl('/a')
    await helpers.purgeUrl('/b')
    expect(reads).toBe(1)
    expect(hosts).toEqual(['shop.example.com /a', 'shop.example.com /b'])
    await new RequestCache(engine, 'other.example').purgeUrl('/c')
    expect(hosts[2]).toBe('other.example /c')
  })
})
