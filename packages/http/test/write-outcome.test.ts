import { describe, expect, it } from 'vitest'
import { notStoredReason } from '../src/entry/entry-store.js'

describe('notStoredReason', () => {
  it('names each refused write the way Cache-Status and the not-stored counters say it', () => {
    expect(notStoredReason('failed')).toBe('write-failed')
    expect(notStoredReason('variant-cap')).toBe('variant-cap')
    // A lifetime that ran out before the write is not a store fault: no alarm on write-failed.
    expect(notStoredReason('expired')).toBe('no-freshness')
  })
})
