import { describe, expect, it } from 'vitest'
import { TagIndex } from '../src/stores/tag-index.js'

describe('TagIndex', () => {
  it('keeps one key per tag as the key, and a second key joins it in a set', () => {
    const index = new TagIndex()
    index.add('t', 'a')
    index.add('t', 'a')
    expect([...index.keysOf('t')]).toEqual(['a'])
    index.add('t', 'b')
    expect([...index.keysOf('t')].sort()).toEqual(['a', 'b'])
  })

  it('forgets a tag when its last key is removed, whether it held one key or a set', () => {
    const index = new TagIndex()
    index.add('one', 'a')
    index.remove('one', 'other')
    expect([...index.keysOf('one')]).toEqual(['a'])
    index.remove('one', 'a')
    expect([...index.keysOf('one')]).toEqual([])
    index.add('two', 'a')
    index.add('two', 'b')
    index.remove('two', 'a')
    expect([...index.keysOf('two')]).toEqual(['b'])
    index.remove('two', 'b')
    expect([...index.keysOf('two')]).toEqual([])
    index.add('two', 'c')
    expect([...index.keysOf('two')]).toEqual(['c'])
  })

  it('takes the keys of a tag and forgets it; an unknown tag has none', () => {
    const index = new TagIndex()
    index.add('t', 'a')
    index.add('t', 'b')
    index.add('u', 'c')
    expect([...index.take('t')].sort()).toEqual(['a', 'b'])
    expect([...index.keysOf('t')]).toEqual([])
    expect([...index.take('t')]).toEqual([])
    expect([...index.take('missing')]).toEqual([])
    index.clear()
    expect([...index.keysOf('u')]).toEqual([])
  })
})
