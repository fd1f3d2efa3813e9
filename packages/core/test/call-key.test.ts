import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { callKey } from '../src/stable-key.js'
import { InvalidArgumentError } from '../src/errors.js'

async function findUser(id: unknown, options?: unknown): Promise<unknown> {
  return { id, options }
}

describe('callKey(fn, args): the default key of cached()', () => {
  it('is stable for equal arguments, whatever the order of object keys, Map entries or Set members', () => {
    expect(callKey(findUser, [{ a: 1, b: [2] }])).toBe(callKey(findUser, [{ b: [2], a: 1 }]))
    expect(
      callKey(findUser, [
        new Map([
          [1, 'a'],
          [2, 'b'],
        ]),
      ])
    ).toBe(
      callKey(findUser, [
        new Map([
          [2, 'b'],
          [1, 'a'],
        ]),
      ])
    )
    expect(callKey(findUser, [new Set([1, 2])])).toBe(callKey(findUser, [new Set([2, 1])]))
    expect(callKey(findUser, [new Date(5)])).toBe(callKey(findUser, [new Date(5)]))
  })

  it('tells apart arguments that print alike', () => {
    const keys = [
      [1],
      ['1'],
      ['a', 'b'],
      ['a,b'],
      [['a', 'b']],
      [undefined],
      [null],
      [],
      [{ a: undefined }],
      [{}],
      [1n],
      [new Date(1)],
      [Buffer.from('1')],
      [-0],
      [0],
    ].map((args) => callKey(findUser, args))
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('tells apart functions that share a name, and starts with the name', () => {
    const a = { find: (id: number) => id }.find
    const b = { find: (id: number) => id + 1 }.find
    expect(callKey(a, [1])).not.toBe(callKey(b, [1]))
    expect(callKey(a, [1])).toMatch(/^find:[0-9a-f]{8}:[\w-]{43}$/)
  })

  it('refuses arguments that cannot be keyed', () => {
    expect(() => callKey(findUser, [() => 1])).toThrow(InvalidArgumentError)
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(() => callKey(findUser, [cycle])).toThrow(/without cycles/)
  })

  it('keys cached() without a key function', async () => {
    const cache = new Cache()
    let calls = 0
    const cachedFind = cache.cached(async (id: number) => ++calls + id * 0, { ttl: '1m' })
    expect(await cachedFind(1)).toBe(1)
    expect(await cachedFind(1)).toBe(1)
    expect(await cachedFind(2)).toBe(2)
  })
})
