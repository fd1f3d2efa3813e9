/**
 * The kit's serve loop and a binding's `rewriteUrl` (DESIGN rule 2, issue 14): query parameters
 * the key ignores are removed from the request before the app runs, or, when the binding cannot
 * make the framework's view follow, the request goes around the cache with its URL as sent.
 */
import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createHttpCache } from '../src/index.js'
import { ServeLoop, type FrameworkBinding } from '../src/kit.js'
import type { ForwardOutcome } from '../src/types.js'

/** The framework's own request: the Node request and what the app derived from its URL. */
interface Native {
  req: IncomingMessage
  derivedUrl: string
  outcome?: ForwardOutcome
}

type Rewrite = FrameworkBinding<Native, undefined>['rewriteUrl']

function bindingWith(rewriteUrl: Rewrite): FrameworkBinding<Native, undefined> {
  const never = (): never => {
    throw new Error('not expected in this test')
  }
  return {
    req: (native) => native.req,
    toRequest: (native, route) => ({
      method: 'GET',
      url: native.derivedUrl,
      headers: native.req.headers,
      host: 'example.com',
      protocol: 'https',
      route,
      native,
    }),
    host: () => 'example.com',
    expose: () => undefined,
    proceed: () => undefined,
    write: never,
    live(native, outcome) {
      native.outcome = outcome
      void outcome.finish(undefined)
    },
    buffered: never,
    refreshed: never,
    listener: never,
    fail: never,
    rewriteUrl,
  }
}

async function serve(rewriteUrl: Rewrite, url: string): Promise<Native> {
  const loop = new ServeLoop(createHttpCache({ ttl: '1m' }), bindingWith(rewriteUrl))
  const native: Native = {
    req: { method: 'GET', url, headers: { host: 'example.com' } } as IncomingMessage,
    derivedUrl: url,
  }
  await loop.serve(native, undefined)
  await loop.close()
  return native
}

describe('ServeLoop: query parameters the key ignores (FrameworkBinding.rewriteUrl)', () => {
  it('a binding that follows: the Node URL and the framework view lose them, and the request uses the cache', async () => {
    const native = await serve((n, rewrite) => {
      n.derivedUrl = rewrite(n.derivedUrl)
    }, '/a?x=1&utm_source=mail')
    expect(native.req.url).toBe('/a?x=1')
    expect(native.derivedUrl).toBe('/a?x=1')
    expect(native.outcome?.kind).toBe('miss')
  })

  it('a binding that cannot follow this request (false): the URL is put back and the request goes around the cache', async () => {
    const native = await serve(() => false, '/a?x=1&utm_source=mail')
    expect(native.req.url).toBe('/a?x=1&utm_source=mail')
    expect(native.outcome).toMatchObject({ kind: 'bypass', reason: 'ignored-param' })
  })

  it('a binding without rewriteUrl: the request goes around the cache untouched', async () => {
    const native = await serve(undefined, '/a?x=1&utm_source=mail')
    expect(native.req.url).toBe('/a?x=1&utm_source=mail')
    expect(native.outcome).toMatchObject({ kind: 'bypass', reason: 'ignored-param' })
  })

  it('a target without ignored parameters never asks the binding', async () => {
    let asked = false
    const native = await serve(() => {
      asked = true
      return false
    }, '/a?x=1')
    expect(asked).toBe(false)
    expect(native.outcome?.kind).toBe('miss')
  })
})
