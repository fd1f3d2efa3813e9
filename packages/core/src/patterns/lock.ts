import { randomBytes } from 'node:crypto'
import type { StoreCalls } from '../resilience/store-call.js'
import type { Store } from '../types.js'

/** A held lock; `release` frees it only if this holder still owns it. */
export interface LockHandle {
  release(): Promise<void>
}

const NO_LOCK: LockHandle = { release: async () => {} }

/**
 * Takes `storeKey` as a lock for `ttlMs` through the store (Redis: SET NX PX with a token).
 * Resolves a handle, or `undefined` when someone else holds it. Fails open: a store that cannot
 * lock, or cannot be asked, gives a handle, as if the caller had won. Tokens are crypto-random,
 * never the cache's injected `random`: a guessable token would let another holder release it.
 */
export async function acquireStoreLock(
  store: Store,
  storeKey: string | undefined,
  ttlMs: number,
  calls: StoreCalls
): Promise<LockHandle | undefined> {
  const { acquireLock, releaseLock } = store
  if (acquireLock === undefined || releaseLock === undefined || storeKey === undefined)
    return NO_LOCK
  const token = randomBytes(12).toString('base64url')
  const acquired = await calls.call(
    'acquireLock',
    () => acquireLock.call(store, storeKey, token, ttlMs),
    true
  )
  if (!acquired) return undefined
  return {
    release: async () =>
      void (await calls.call('releaseLock', () => releaseLock.call(store, storeKey, token), false)),
  }
}
