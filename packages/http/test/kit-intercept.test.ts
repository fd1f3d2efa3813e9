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
        captureLive(res, {
          captureBody: true,
          maxBodyBytes: 1024,
          onDone: (done) => void (captured = done),
        })
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

describe('captureLive with storeBeforeEnd', () => {
  it('an end in one call waits for onDone, and the head is written after it', async () => {
    const order: string[] = []
    const response = await inject(
      (req: IncomingMessage, res: ServerResponse) => {
        captureLive(res, {
          captureBody: true,
          maxBodyBytes: 1024,
          storeBeforeEnd: true,
          onHead: (status) => {
            order.push('head')
            return {
              status,
              remove: [],
              set: [['x-known', order.includes('stored') ? 'yes' : 'no']],
              omitBody: false,
              captureBody: true,
            }
          },
          onDone: async (captured) => {
            await new Promise((resolve) => setTimeout(resolve, 20))
            order.push(captured?.body.toString() === 'whole' ? 'stored' : 'wrong')
          },
        })
        res.end('whole')
      },
      { url: '/' }
    )
    expect(order).toEqual(['stored', 'head'])
    expect(response.headers['x-known']).toBe('yes')
    expect(response.payload).toBe('whole')
  })

  it('a streamed body goes out at once; only its end waits', async () => {
    let doneCalls = 0
    const response = await inject(
      (req: IncomingMessage, res: ServerResponse) => {
        captureLive(res, {
          captureBody: true,
          maxBodyBytes: 1024,
          storeBeforeEnd: true,
          onDone: async () => {
            doneCalls++
          },
        })
        res.write('ab')
        res.end('cd')
      },
      { url: '/' }
    )
    expect(response.payload).toBe('abcd')
    expect(doneCalls).toBe(1)
  })
})
