import { describe, expect, it } from 'vitest'
import { InvalidOptionError, rejectUnknownOptions } from '../src/index.js'

describe('rejectUnknownOptions(options, known, path)', () => {
  it('accepts known names', () => {
    expect(() => rejectUnknownOptions({ ttl: '1m', tags: [] }, ['ttl', 'tags'], '')).not.toThrow()
  })

  it('names an unknown option and the known one it is closest to', () => {
    expect(() => rejectUnknownOptions({ tll: '1m' }, ['ttl', 'tags'], '')).toThrow(
      /options\.tll to be a known option \(did you mean "ttl"\?\)/
    )
  })

  it('names the path of a nested group', () => {
    const check = (): void =>
      rejectUnknownOptions({ maxEntrySize: 1 }, ['maxEntryBytes', 'store'], 'storage')
    expect(check).toThrow(InvalidOptionError)
    expect(check).toThrow(/options\.storage\.maxEntrySize/)
  })

  it('lists the known options when none is close', () => {
    expect(() => rejectUnknownOptions({ frobnicate: true }, ['ttl', 'tags'], '')).toThrow(
      /one of the known options \(ttl, tags\)/
    )
  })

  it('matches a name that differs only in case', () => {
    expect(() => rejectUnknownOptions({ TTL: 1 }, ['ttl'], '')).toThrow(/did you mean "ttl"/)
  })

  it('answers a renamed option with its new name, even when the two look nothing alike', () => {
    const check = (): void =>
      rejectUnknownOptions({ deadlineMs: 50 }, ['timeout', 'prefix'], '', { deadlineMs: 'timeout' })
    expect(check).toThrow(InvalidOptionError)
    expect(check).toThrow(
      /options\.deadlineMs to be a known option \(did you mean "timeout"\? "deadlineMs" was renamed in 1\.0\)/
    )
  })

  it('ignores inherited names in the renamed map', () => {
    expect(() => rejectUnknownOptions({ toString: 1 }, ['ttl'], '', {})).toThrow(
      /one of the known options \(ttl\)/
    )
  })
})
