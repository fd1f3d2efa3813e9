import { describe, expect, test } from 'vitest'
import { capBody } from '../src/kit.js'

describe('capBody', () => {
  test('a body up to the cap is captured whole, without a copy', () => {
    const bytes = Buffer.from('hello')
    const captured = capBody(bytes, 5)
    expect(captured.complete).toBe(true)
    expect(captured.body).toBe(bytes)
  })

  test('a body past the cap is captured as nothing, incomplete', () => {
    const captured = capBody(Buffer.from('hello'), 4)
    expect(captured).toEqual({ body: Buffer.alloc(0), complete: false })
    expect(Object.isFrozen(captured)).toBe(true)
  })
})
