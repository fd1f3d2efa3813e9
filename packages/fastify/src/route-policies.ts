import type { HttpCache, RoutePolicy } from '@cachewire/http'
import { InvalidOptionError } from '@cachewire/http'
import { routePolicy } from '@cachewire/http/kit'
import type { RouteOptions } from './types.js'

/** What the route options of an `onRoute` hook hold that matters here. */
interface DeclaredRoute {
  method?: string | string[] | undefined
  url?: string | undefined
  config?: unknown
}

/**
 * The `config: { cache }` policies of an app's routes, each resolved once: when the route is
 * declared (the plugin's `onRoute` hook, so a bad policy fails the app's startup), or, for a route
 * declared before the plugin was loaded, on its first request.
 */
export class RoutePolicies {
  readonly #engine: HttpCache
  readonly #resolved = new WeakMap<object, RoutePolicy>()

  constructor(engine: HttpCache) {
    this.#engine = engine
  }

  /** Validates a declared route's policy; throws an `InvalidOptionError` naming the route and the option. */
  declare(route: DeclaredRoute): void {
    const policy = cachePolicyOf(route.config)
    if (policy === undefined || policy === false) return
    try {
      this.resolve(policy)
    } catch (error) {
      if (error instanceof Error)
        error.message = `route ${String(route.method)} ${String(route.url)}: ${error.message}`
      throw error
    }
  }

  /** The resolved policy of a route's `config.cache` (validated the first time it is met). */
  resolve(policy: unknown): RoutePolicy {
    if (typeof policy !== 'object' || policy === null)
      throw new InvalidOptionError('config.cache', 'a route policy object or false', policy)
    let resolved = this.#resolved.get(policy)
    if (resolved === undefined) {
      resolved = routePolicy(this.#engine, policy as RouteOptions, 'responseCache()')
      this.#resolved.set(policy, resolved)
    }
    return resolved
  }
}

/** A route config's `cache` entry, if it has one. */
export function cachePolicyOf(config: unknown): unknown {
  return typeof config === 'object' && config !== null
    ? (config as { cache?: unknown }).cache
    : undefined
}
