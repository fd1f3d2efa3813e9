import { describe, expect, it } from 'vitest'
import { RedisJournal } from '../src/stores/redis-journal.js'

// Only the constructor's option checks: the journal itself runs on real Redis in test/faults.
const client = { xadd: () => undefined } as never

describe('RedisJournal options', () => {
  it('reads durations by the unit rule', () => {
    expect(
      () => new RedisJournal({ client, key: 'k', timeout: 250, retention: '1d' })
    ).not.toThrow()
    expect(() => new RedisJournal({ client, key: 'k', retention: 60 })).toThrow(
      /options\.retention.*'60s'/
    )
  })

  it('refuses the pre-1.0 …Ms names and other unknown options', () => {
    expect(() => new RedisJournal({ client, key: 'k', deadlineMs: 1000 } as never)).toThrow(
      /options\.deadlineMs/
    )
    expect(() => new RedisJournal({ client, key: 'k', retentionMs: 1000 } as never)).toThrow(
      /options\.retentionMs.*"retention"/
    )
  })
})
