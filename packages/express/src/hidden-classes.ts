import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Application } from 'express'

/**
 * Puts an Express request and its response in V8's dictionary mode, where every object with the
 * same prototype shares one hidden class, so property accesses after this point hit V8's inline
 * caches again.
 *
 * Express (4 and 5) sets the prototype of each request and response and then adds properties
 * (`res.locals`, `req.next`, …). V8 builds a new hidden class for every property added after a
 * prototype change, so no two requests share one. Then every read of `req` or `res` misses its
 * inline cache and is looked up in the runtime (~1 k instructions), and every added property
 * builds yet another hidden class (~17 k). This covers our reads, the handler's, and Node's own
 * while it writes the response (`writeHead` adds `statusCode` and `statusMessage`).
 *
 * Deleting a property that is not the last one added makes V8 normalize the object. The property
 * is then put back with its own descriptor. Only an own, configurable, writable, enumerable data
 * property of an extensible object is moved, and Node gives both objects `_maxListeners`; with
 * anything else the object is left as it is.
 *
 * Measured with callgrind on a bare Express 5 app answering `res.json` with 1 KB: 657 k
 * instructions per request, 509 k with the response normalized, 364 k with both.
 */
export function shareHiddenClasses(req: IncomingMessage, res: ServerResponse | undefined): void {
  normalize(req)
  if (res !== undefined) normalize(res)
}

/** Node's EventEmitter sets it on every emitter it builds, before the object's other fields. */
const EARLY_OWN_FIELD = '_maxListeners'

function normalize(target: object): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, EARLY_OWN_FIELD)
  if (
    descriptor === undefined ||
    !('value' in descriptor) ||
    descriptor.configurable !== true ||
    descriptor.writable !== true ||
    descriptor.enumerable !== true ||
    !Object.isExtensible(target)
  )
    return
  Reflect.deleteProperty(target, EARLY_OWN_FIELD)
  Object.defineProperty(target, EARLY_OWN_FIELD, descriptor)
}

/**
 * Set on an app once its router has been looked at, so each request checks one field: `true` when
 * its router now shares hidden classes at entry, `false` when it was left alone.
 */
const ENTRY_SHARES: unique symbol = Symbol('cachewire.entry-shares-hidden-classes')

type Handle = (req: IncomingMessage, res: ServerResponse, done: unknown) => unknown
type Hookable = Application & {
  [ENTRY_SHARES]?: boolean
  parent?: Application
  lazyrouter?: unknown
}

/**
 * From the next request on, puts each request and response entering `app` (and each app it is
 * mounted in) in dictionary mode as soon as Express 5 has changed their prototypes, before its
 * router runs, rather than when they reach the cache.
 *
 * `Object.setPrototypeOf` on an object V8 keeps in fast mode (Express 5's `app.handle` does it to
 * every request and response) makes that object, and what is allocated for it while it stays so,
 * outlive V8's young-generation collections: everything the router allocates per request was
 * promoted to the old generation and left to full collections. Per scavenge under 64 connections
 * (`node bench/gc.mjs <variant> --connections 64`): a Koa app or bare `node:http` promotes about
 * 1 KiB, Express 5 answering in its first middleware (`express-floor`) 3.6 MiB, the cache
 * middleware's hits 2.4 MiB when it put them in dictionary mode itself and 0.7 MiB since it is done
 * here (5.4 % of the time in scavenges, was 12.5 %); those hits went from 16.6 k to 25.3 k requests
 * a second (`node bench/pair.mjs cachewire-express --connections 64`, 5 rounds).
 *
 * Express 5 calls `app.router.handle` right after the prototype change; that one method of the
 * app's own router is wrapped. Express 4 changes prototypes in its first router layer, so the
 * cache middleware's own call (`shareHiddenClasses`) is the earliest point there, and its
 * `app.router` throws: an app with `lazyrouter` (Express 4) is left alone, as is a router that
 * cannot take the wrapper. The first requests of an app, before a cache met it, are not covered.
 *
 * Returns whether `app`'s router already did it for the request at hand (its router was wrapped
 * before this call), so the caller can skip its own `shareHiddenClasses`.
 */
export function shareHiddenClassesAtEntry(app: Application | undefined): boolean {
  const looked = (app as Hookable | undefined)?.[ENTRY_SHARES]
  // The apps it is mounted in were looked at in the same pass as the app: no walk up per request.
  if (looked !== undefined) return looked
  for (let current = app as Hookable | undefined; current !== undefined; current = current.parent) {
    if (current[ENTRY_SHARES] !== undefined) continue
    if (!Object.isExtensible(current)) break
    current[ENTRY_SHARES] = typeof current.lazyrouter !== 'function' && wrapRouterHandle(current)
  }
  return false
}

/** Whether the app's router now shares hidden classes as it receives a request. */
function wrapRouterHandle(app: Hookable): boolean {
  let router: { handle?: unknown } | undefined
  try {
    router = (app as { router?: { handle?: unknown } }).router
  } catch {
    // A getter that refuses (as Express 4's does): nothing to wrap.
    return false
  }
  if (typeof router !== 'function' && (typeof router !== 'object' || router === null)) return false
  const handle = router.handle
  if (typeof handle !== 'function' || !Object.isExtensible(router)) return false
  router.handle = function sharedHiddenClassesHandle(
    this: unknown,
    req: IncomingMessage,
    res: ServerResponse,
    done: unknown
  ): unknown {
    shareHiddenClasses(req, res)
    return (handle as Handle).call(this, req, res, done)
  }
  return true
}
