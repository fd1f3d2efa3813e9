import type { IncomingMessage, ServerResponse } from 'node:http'
import inject from 'light-my-request'
import { describe, expect, it } from 'vitest'
import { setReplyHeaders } from '../src/kit/front-door.js'
import type { HeaderPairs } from '../src/types.js'

/** The head a handler sends after `before` set its own fields and `setReplyHeaders` put the reply's. */
async function sent(
  reply: HeaderPairs,
  before: Record<string, string>,
  leftToCaller?: string,
  after?: (res: ServerResponse) => void
) {
  let contentLength: string | undefined
  const response = await inject(
    (_req: IncomingMessage, res: ServerResponse) => {
      for (const [name, value] of Object.entries(before)) res.setHeader(name, value)
      contentLength = setReplyHeaders(res, reply, leftToCaller).contentLength
      after?.(res)
      res.writeHead(200)
      res.end()
    },
    { url: '/' }
  )
  return { headers: response.headers, contentLength }
}

describe('setReplyHeaders', () => {
  it('replaces fields set earlier under the reply names and keeps the others', async () => {
    const { headers } = await sent(
      [
        ['content-type', 'text/plain'],
        ['etag', '"a"'],
      ],
      { 'content-type': 'text/html', 'x-request-id': '7' }
    )
    expect(headers['content-type']).toBe('text/plain')
    expect(headers['etag']).toBe('"a"')
    expect(headers['x-request-id']).toBe('7')
  })

  it('sends a repeated name as its own lines, without a value set earlier', async () => {
    const { headers } = await sent(
      [
        ['link', '</a>; rel=preload'],
        ['link', '</b>; rel=preload'],
      ],
      { link: '</old>' }
    )
    expect(headers['link']).toEqual(['</a>; rel=preload', '</b>; rel=preload'])
  })

  describe('with a field left to the caller', () => {
    it('does not set it, and answers its value for the caller to compare', async () => {
      const { headers, contentLength } = await sent(
        [
          ['content-type', 'text/plain'],
          ['content-length', '12'],
        ],
        {},
        'content-length'
      )
      expect(headers['content-type']).toBe('text/plain')
      expect(headers['content-length']).toBeUndefined()
      expect(contentLength).toBe('12')
    })

    it('leaves a value set earlier under it as it was (the caller fixes it)', async () => {
      let seen: unknown
      const { headers } = await sent(
        [['content-length', '12']],
        { 'content-length': '999' },
        'content-length',
        (res) => {
          seen = res.getHeader('content-length')
          res.setHeader('content-length', '0')
        }
      )
      expect(seen).toBe('999')
      expect(headers['content-length']).toBe('0')
    })

    it('still appends the other lines of a reply that repeats a name', async () => {
      const { headers } = await sent(
        [
          ['link', '</a>'],
          ['link', '</b>'],
          ['content-length', '0'],
        ],
        { 'content-length': '999' },
        'content-length'
      )
      expect(headers['link']).toEqual(['</a>', '</b>'])
      // Cleared with the reply's other names before appending; never appended.
      expect(headers['content-length']).toBeUndefined()
    })
  })
})
