import type { IncomingMessage, ServerResponse } from 'node:http'
import inject from 'light-my-request'
import { describe, expect, it } from 'vitest'
import { captureLive } from '../src/kit/capture-live.js'
import { bufferResponse } from '../src/kit/buffer-response.js'
import type { CapturedResponse } from '../src/types.js'

/**
 * light-my-request (the background refresh's transport) has an `end(chunk)` that writes its chunk
 * through `this.write`: the interception must see those bytes once, not once in `end` and again
 * in the `write` it calls. A framework that ends with its payload (Fastify 5's `res.end(payload)`)
 * met this in every refresh.
 */
describe('intercept under an end() that writes through this.write', () => {
  it('a live capture holds the body once and the client gets it once', async () => {
    let captured: CapturedResponse | undefined
    const response = await inject(
      (req: IncomingMessage, res: ServerResponse) => {
        captureLive(res, { captureBody: true, maxBodyBytes: 1024, onDone: (done) => void (captured = done) })
        res.setHeader('content-type', 'text/plain')
        res.write('ab')
        res.end('cd')
      },
      { url: '/' }
    )
    expect(response.payload).toBe('abcd')
    expect(Buffer.from(captured?.body ?? []).toString()).toBe('abcd')
    expect(captured?.complete).toBe(true)
  })

  it('a buffered run resolves with the body once', async () => {
    let body = ''
    await inject(
      async (req: IncomingMessage, res: ServerResponse) => {
        const buffer = bufferResponse(res, { resetHead: true })
        res.end('payload')
        body = (await buffer.result).body.toString()
        buffer.restore()
        res.end('answer')
      },
      { url: '/' }
    )
    expect(body).toBe('payload')
  })
})
