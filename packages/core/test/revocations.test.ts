import { describe, expect, it } from 'vitest'
import { Cache } from '../src/cache.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { revocations, type RevocationSync } from '../src/patterns/revocations.js'
import { StoreUnavailableError } from '../src/errors.js'
import { ChaosStore } from './chaos-store.js'

/** An in-process sync for two lists in one process: acknowledged delivery, always trusted. */
function localSync(): { member: () => RevocationSync } {
  const listeners = new Set<{ revoked(hash: string, until: number): void }>()
  return {
    member: () => {
      let own: { revoked(hash: string, until: number): void } | undefined
      return {
        start: async (listener) => void listeners.add((own = listener)),
        trusted: () => true,
        broadcast: async (hash, until) => {
          for (const listener of listeners) if (listener !== own) listener.revoked(hash, until)
        },
        close: async () => void (own !== undefined && listeners.delete(own)),
      }
    },
  }
}

describe('revocations', () => {
  it('revokes until the token expires, keeping only its SHA-256', async () => {
    let now = 1_000_000
    const store = new MemoryStore({ clock: () => now })
    const list = revocations(new Cache({ store, clock: () => now }).namespace('revoked'), {
      clock: () => now,
    })
    expect(await list.isRevoked('token-a')).toBe(false)
    expect(await list.revoke('token-a', { until: now + 60_000 })).toBe(true)
    expect(await list.isRevoked('token-a')).toBe(true)
    expect(await list.isRevoked('token-b')).toBe(false)
    expect(await store.deletePattern('*token-a*')).toBe(0)
    now += 61_000
    expect(await list.isRevoked('token-a')).toBe(false)
    expect(await list.revoke('token-c', { until: new Date(now - 1) })).toBe(false) // expired already: nothing to keep
  })

  it('fails closed: a check the store cannot answer rejects, never answers false', async () => {
    const store = new ChaosStore(new MemoryStore())
    const list = revocations(new Cache({ store, breaker: false }))
    store.failing = true
    await expect(list.isRevoked('t')).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(list.revoke('t', { until: Date.now() + 60_000 })).rejects.toBeInstanceOf(
      StoreUnavailableError
    )
  })

  it('answers repeated checks from the front, which peers keep honest', async () => {
    const store = new ChaosStore(new MemoryStore())
    const sync = localSync()
    const a = revocations(new Cache({ store, breaker: false }), { sync: sync.member() })
    const b = revocations(new Cache({ store, breaker: false }), { sync: sync.member() })
    await Promise.all([a.start(), b.start()])
    expect(await b.isRevoked('t')).toBe(false)
    const calls = store.calls
    expect(await b.isRevoked('t')).toBe(false)
    expect(store.calls).toBe(calls) // from the front
    await a.revoke('t', { until: Date.now() + 60_000 })
    expect(await b.isRevoked('t')).toBe(true)
    expect(b.frontSize).toBe(1)
  })

  it('gates a Node request: 401 for a revoked token, 503 when it cannot check', async () => {
    const store = new ChaosStore(new MemoryStore())
    const list = revocations(new Cache({ store, breaker: false }))
    await list.revoke('bad', { until: Date.now() + 60_000 })
    const gate = list.handler({
      token: (req) => (req.headers.authorization as string | undefined)?.replace(/^Bearer /, ''),
    })
    const response = () => {
      const res = {
        statusCode: 200,
        headers: {} as Record<string, string>,
        body: '',
        setHeader(n: string, v: string) {
          res.headers[n] = v
        },
        end(b?: string) {
          res.body = b ?? ''
        },
      }
      return res
    }
    expect(await gate({ headers: { authorization: 'Bearer good' } }, response())).toBe(true)
    const revoked = response()
    expect(await gate({ headers: { authorization: 'Bearer bad' } }, revoked)).toBe(false)
    expect(revoked.statusCode).toBe(401)
    expect(revoked.headers['WWW-Authenticate']).toMatch(/invalid_token/)
    store.failing = true
    const down = response()
    expect(await gate({ headers: { authorization: 'Bearer good' } }, down)).toBe(false)
    expect(down.statusCode).toBe(503)
  })
})
