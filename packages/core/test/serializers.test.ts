import { serialize } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { DecodeError, SerializationError } from '../src/errors.js'
import {
  decodeValue,
  encodeValue,
  jsonSerializer,
  structuredSerializer,
  type Serializer,
} from '../src/serializers.js'

describe('serializers', () => {
  describe('the default (structured) serializer', () => {
    it.each([
      ['a Date', new Date(1)],
      [
        'a Map',
        new Map<unknown, unknown>([
          ['a', 1],
          [2, { b: new Date(0) }],
        ]),
      ],
      ['a Set', new Set(['x', 1])],
      ['a BigInt', 12345678901234567890n],
      ['a typed array', new Int32Array([-1, 2])],
      ['NaN and Infinity', { a: Number.NaN, b: -Infinity }],
      ['an array with undefined', [1, undefined, 3]],
      [
        'a cycle',
        (() => {
          const o: Record<string, unknown> = { n: 1 }
          o.self = o
          return o
        })(),
      ],
    ])('round-trips %s', (_, value) => {
      expect(decodeValue(encodeValue(value, 'k'), 'k')).toEqual(value)
    })

    it('stores plain data as JSON text, as the codec of older versions did', () => {
      expect(Buffer.from(encodeValue({ a: [1, 'x', null, true] }, 'k')).toString()).toBe(
        '{"a":[1,"x",null,true]}'
      )
    })

    it('keeps toJSON for objects that define it (the old codec stored their JSON)', () => {
      const money = { amount: 5, toJSON: () => '5.00 EUR' }
      expect(decodeValue(encodeValue(money, 'k'), 'k')).toBe('5.00 EUR')
    })

    it('refuses functions and symbols, naming the path', () => {
      expect(() => encodeValue({ user: { save: () => 1 } }, 'k')).toThrow(SerializationError)
      expect(() => encodeValue({ user: { save: () => 1 } }, 'k')).toThrow(
        /value\.user\.save is a function/
      )
    })

    it('returns bytes raw, whichever serializer', () => {
      const bytes = Buffer.from([0, 1, 2, 255])
      for (const serializer of [structuredSerializer, jsonSerializer]) {
        const encoded = encodeValue(bytes, 'k', serializer)
        expect(encoded[0]).toBe(0)
        expect(decodeValue(encoded, 'k', serializer)).toEqual(bytes)
      }
    })
  })

  describe('jsonSerializer', () => {
    it.each([
      ['value.at', { at: new Date() }, /is a Date/],
      ['value.ids', { ids: new Set([1]) }, /is a Set/],
      ['value.n', { n: 10n }, /BigInt/],
      ['value[1]', [1, Number.NaN], /NaN/],
      [
        'value.user',
        {
          user: new (class User {
            id = 1
          })(),
        },
        /instance of User/,
      ],
      ['value[0]', [undefined], /undefined/],
      [
        'value.orders[1]["line items"][0].at',
        { orders: [{ at: 1 }, { id: 2, 'line items': [{ at: new Date() }] }] },
        /is a Date/,
      ],
      ['value.grid[1][0]', { grid: [[1], new Array(2)] }, /is a hole/],
      // The bytes of a typed array whatever its prototype; an array made a Date by its prototype.
      [
        'value.bytes',
        { bytes: Object.setPrototypeOf(new Uint8Array([1]), Object.prototype) as unknown },
        /object of numbers/,
      ],
      ['value.when', { when: Object.setPrototypeOf([1], Date.prototype) as unknown }, /is a Date/],
      [
        'value.list[1].back',
        (() => {
          const list: unknown[] = [1]
          list.push({ back: list })
          return { list }
        })(),
        /is circular/,
      ],
    ])('refuses %s', (path, value, problem) => {
      let error: unknown
      try {
        encodeValue(value, 'k', jsonSerializer)
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(SerializationError)
      expect((error as SerializationError).path).toBe(path)
      expect((error as Error).message).toMatch(problem)
    })

    it('takes an object reached twice without a cycle, writing it twice as JSON does', () => {
      const shared = { id: 1 }
      const value = { a: shared, b: [shared, { c: shared }] }
      const encoded = encodeValue(value, 'k', jsonSerializer)
      expect(decodeValue(encoded, 'k', jsonSerializer)).toEqual(value)
    })

    it('takes plain data, leaving undefined properties out as JSON does', () => {
      expect(
        decodeValue(
          encodeValue({ a: 1, b: undefined, c: { d: [null, 'x'] } }, 'k', jsonSerializer),
          'k'
        )
      ).toEqual({ a: 1, c: { d: [null, 'x'] } })
    })

    it('refuses on set, leaving the store untouched', async () => {
      const store = new MemoryStore()
      const cache = new Cache({ store, serializer: jsonSerializer })
      await expect(cache.set('k', { at: new Date() })).rejects.toBeInstanceOf(SerializationError)
      expect(await store.get('k')).toBeUndefined()
    })
  })

  describe('values written by older codecs and other serializers', () => {
    it('reads JSON written by the old codec, and counters, under every serializer', async () => {
      const store = new MemoryStore()
      await store.set('old', Buffer.from('{"name":"Ada","at":"2020-01-01T00:00:00.000Z"}'), {
        ttlMs: 60_000,
      })
      await store.set('count', Buffer.from('42'), { ttlMs: 60_000 })
      for (const serializer of [structuredSerializer, jsonSerializer]) {
        const cache = new Cache({ store, serializer })
        expect(await cache.get('old')).toEqual({ name: 'Ada', at: '2020-01-01T00:00:00.000Z' })
        expect(await cache.get('count')).toBe(42)
      }
    })

    it('reads V8 structured bytes with the JSON serializer (values written by a default cache)', () => {
      expect(decodeValue(serialize(new Map([[1, 2]])), 'k', jsonSerializer)).toEqual(
        new Map([[1, 2]])
      )
    })

    it('frames a custom serializer, so its bytes never pass for another format', async () => {
      const reverse: Serializer = {
        name: 'reverse',
        encode: (value) => Buffer.from(JSON.stringify(value)).reverse(),
        decode: (bytes) => JSON.parse(Buffer.from(bytes).reverse().toString()),
      }
      const store = new MemoryStore()
      const cache = new Cache({ store, serializer: reverse })
      await cache.set('k', { a: 1 })
      expect((await store.get('k'))?.[0]).toBe(0x02)
      expect(await cache.get('k')).toEqual({ a: 1 })
      await cache.increment('n', 2)
      expect(await cache.get('n')).toBe(2)
      // A cache without that serializer cannot read its bytes: a miss (and a DecodeError), never garbage.
      const other = new Cache({ store })
      const errors: Error[] = []
      other.on('error', (error) => errors.push(error))
      expect(await other.get('k')).toBeUndefined()
      expect(errors[0]).toBeInstanceOf(DecodeError)
    })

    it('wraps a custom serializer error in SerializationError', async () => {
      const failing: Serializer = {
        name: 'failing',
        encode: () => {
          throw new Error('nope')
        },
        decode: () => undefined,
      }
      await expect(new Cache({ serializer: failing }).set('k', 1)).rejects.toThrow(
        /could not be encoded by the failing serializer/
      )
    })

    it('rejects a serializer without encode and decode at construction', () => {
      expect(() => new Cache({ serializer: { name: 'x' } as never })).toThrow(/options\.serializer/)
    })
  })
})
