import { describe, expect, test } from 'vitest'
import { collectTags } from '../src/flows/admit.js'
import { resolveHttpCacheOptions } from '../src/options/resolve-options.js'
import type { HttpCacheOptions } from '../src/options/types.js'
import { KeyHasher, urlTag } from '../src/request/cache-key.js'
import { prepareRequest } from '../src/request/prepare-request.js'
import type { HeaderPair } from '../src/types.js'

function tagsFor(options: HttpCacheOptions, pairs: HeaderPair[] = []): string[] {
  const resolved = resolveHttpCacheOptions(options)
  const { context } = prepareRequest(
    { method: 'GET', url: '/items/7?a=1', headers: {}, host: 'example.com', protocol: 'https' },
    resolved,
    new KeyHasher()
  )
  if (context === undefined) throw new Error('expected a cacheable request')
  return collectTags(context, pairs, resolved)
}

const own = urlTag('example.com', '/items/7', 'a=1')

describe('collectTags', () => {
  test('a response with no tags from options, route or surrogate keys carries its URL tag alone', () => {
    expect(tagsFor({})).toEqual([own])
    expect(tagsFor({ tags: [] })).toEqual([own])
  })

  test('URL tag, engine tags, then surrogate keys; de-duplicated, malformed ones dropped', () => {
    const keys = Array.from({ length: 70 }, (_, i) => `k${i}`).join(' ')
    const tags = tagsFor(
      {
        tags: (request) => [
          'site',
          request.url.startsWith('/items') ? 'items' : 'other',
          'site',
          '',
        ],
        cdn: { surrogateKeyHeader: 'surrogate-key' },
      },
      [['surrogate-key', `items bad\u0001key, ${keys}`]]
    )
    expect(tags.slice(0, 3)).toEqual([own, 'site', 'items'])
    // `items` again is the same tag; the field's first 64 well-formed keys follow.
    expect(tags.slice(3)).toEqual(Array.from({ length: 63 }, (_, i) => `k${i}`))
  })
})
