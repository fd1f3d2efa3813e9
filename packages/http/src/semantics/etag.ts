import createEtag from 'etag'

/** How the engine makes an ETag for a stored body the handler gave none. */
export type EtagMode = 'strong' | 'weak' | false

/**
 * An ETag for a body, made with the `etag` package (a length plus a hash of the bytes). Strong by
 * default: the bytes are exactly what will be replayed. Computed once at store time, never per hit.
 *
 * @example
 * ```ts
 * generateEtag(Buffer.from('hi'), 'strong') // '"2-witfkXg0JglCjW9RssWvTAveakI"'
 * generateEtag(Buffer.from('hi'), 'weak')   // 'W/"2-witfkXg0JglCjW9RssWvTAveakI"'
 * ```
 */
export function generateEtag(body: Buffer, mode: 'strong' | 'weak'): string {
  return createEtag(body, { weak: mode === 'weak' })
}
