import { describe, expect, it } from 'vitest'
import { createDebugLog } from '../src/observability/debug-log.js'

function lines(debug: string | undefined): string[] {
  const written: string[] = []
  const log = createDebugLog({ DEBUG: debug }, (line) => written.push(line))
  log('bypass', '%s %s: %s', 'GET', '/cart', 'cookie')
  log('store', 'stored %s: %d bytes', '/a', 12)
  log('invalidate', '%j', { tags: ['a'], removed: 1 })
  return written.map((line) => line.replace(/^\S+ /, ''))
}

describe('createDebugLog(env)', () => {
  it('is silent without DEBUG', () => {
    expect(lines(undefined)).toEqual([])
    expect(lines('express:*')).toEqual([])
  })

  it('writes every area for DEBUG=cachewire:*, with an ISO time and the namespace', () => {
    expect(lines('cachewire:*')).toEqual([
      'cachewire:bypass GET /cart: cookie\n',
      'cachewire:store stored /a: 12 bytes\n',
      'cachewire:invalidate {"tags":["a"],"removed":1}\n',
    ])
    const written: string[] = []
    createDebugLog({ DEBUG: '*' }, (line) => written.push(line))('purge', 'x')
    expect(written[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z cachewire:purge x\n$/)
  })

  it('follows the debug syntax: lists, wildcards and exclusions', () => {
    expect(lines('cachewire:bypass')).toEqual(['cachewire:bypass GET /cart: cookie\n'])
    expect(lines('app:*, cachewire:store')).toEqual(['cachewire:store stored /a: 12 bytes\n'])
    expect(lines('cachewire:*,-cachewire:store')).toHaveLength(2)
    expect(
      lines('cachewire:*,-cachewire:store').some((line) => line.startsWith('cachewire:store'))
    ).toBe(false)
  })
})
