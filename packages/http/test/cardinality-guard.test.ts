import { describe, expect, it } from 'vitest'
import { CardinalityGuard, MAX_GROUPS_PER_WINDOW } from '../src/flows/cardinality-guard.js'

describe('CardinalityGuard', () => {
  it('admits up to `keys` distinct keys per group in a window, and a key it admitted again', () => {
    const guard = new CardinalityGuard(() => 1_000)
    const one = { keys: 1, windowMs: 60_000 }
    expect(guard.admit(one, '/a', 'h1')).toBe(true)
    expect(guard.admit(one, '/a', 'h1')).toBe(true)
    expect(guard.admit(one, '/a', 'h2')).toBe(false)
    expect(guard.admit(one, '/b', 'h2')).toBe(true)

    const three = { keys: 3, windowMs: 60_000 }
    for (const hash of ['k1', 'k2', 'k3', 'k1', 'k2'])
      expect(guard.admit(three, '/c', hash)).toBe(true)
    expect(guard.admit(three, '/c', 'k4')).toBe(false)
    expect(guard.admit(three, '/c', 'k3')).toBe(true)
  })

  it('starts counting again in the next window', () => {
    let now = 0
    const guard = new CardinalityGuard(() => now)
    const limit = { keys: 2, windowMs: 1_000 }
    expect(guard.admit(limit, '/a', 'h1')).toBe(true)
    expect(guard.admit(limit, '/a', 'h2')).toBe(true)
    expect(guard.admit(limit, '/a', 'h3')).toBe(false)
    now = 1_000
    expect(guard.admit(limit, '/a', 'h3')).toBe(true)
  })

  it(`refuses a new group once ${MAX_GROUPS_PER_WINDOW} groups are tracked in the window`, () => {
    const guard = new CardinalityGuard(() => 0)
    const limit = { keys: 5, windowMs: 60_000 }
    for (let i = 0; i < MAX_GROUPS_PER_WINDOW; i++) guard.admit(limit, `/p/${i}`, 'h')
    expect(guard.admit(limit, '/p/new', 'h')).toBe(false)
    expect(guard.admit(limit, '/p/0', 'h')).toBe(true)
    expect(guard.admit(limit, '/p/0', 'other')).toBe(true)
  })
})
