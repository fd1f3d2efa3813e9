import { describe, expect, it } from 'vitest'
import { InvalidOptionError, rejectUnknownOptions } from '../src/index.js'

describe('rejectUnknownOptions(options, known, path)', () => {
  it('accepts known names', () => {
    expect(() => rejectUnknownOptions({ ttl: '1m', tags: [] }, ['ttl', 'tags'], '')).not.toThrow()
  })

  it('names an unknown option and the known one it is closest to', () => {
    expect(() => rejectUnknownOptions({ tll: '1m' }, ['ttl', 'tags'], '')).toThrow(/options\.tll to be a known option \(did you mean "ttl"\?\)/)
  })

  it('names the path of a nested group', () => {
    const check = (): void => rejectUnknownOptions({ maxEntrySize: 1 }, ['maxEntryBytes', 'store'], 'storage')
    expect(check).toThrow(InvalidOptionError)
    expect(check).toThrow(/options\.storage\.maxEntrySize/)
  })

  it('lists the known options when none is close', () => {
    expect(() => rejectUnknownOptions({ frobnicate: true }, ['ttl', 'tags'], '')).toThrow(/one of the known options \(ttl, tags\)/)
  })

  it('matches a name that differs only in case', () => {
    expect(() => rejectUnknownOptions({ TTL: 1 }, ['ttl'], '')).toThrow(/did you mean "ttl"/)
  })
})
