import { describe, expect, test } from 'vitest'
import type { HttpCache } from '../src/engine/http-cache.js'
import { RequestCache } from '../src/kit/request-helpers.js'

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
