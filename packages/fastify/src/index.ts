import './request-cache.js'

export { responseCache } from './response-cache.js'
export type { ResponseCache } from './response-cache.js'
export { cachePlugin } from './thin-forms.js'
export { cacheControl } from './cache-control.js'
export { conditional } from './conditional.js'
export { purgeRouter } from './purge-router.js'
export { liveness, readiness } from './health.js'
export type { ProbeHandler } from './health.js'
export type { HealthCheckOptions } from '@cachewire/http/operations'
export type { PurgeRouterOptions } from './purge-router.js'
export { varnishPurger } from '@cachewire/http/operations'
export type { VarnishPurgerOptions } from '@cachewire/http/operations'
export type {
  ResponseCacheOptions,
  RouteOptions,
  CacheRoutePolicy,
  CachePluginOptions,
  PathRule,
  PathRules,
  CacheHook,
  HookDone,
} from './types.js'
export type { CacheHelpers } from './request-cache.js'
export type {
  CacheControlMiddlewareOptions,
  ConditionalOptions,
  ResponseCacheHelpers,
} from '@cachewire/http/kit'
export {
  Cache,
  MemoryStore,
  CachewireError,
  InvalidOptionError,
  InvalidArgumentError,
} from '@cachewire/http'
export type {
  Store,
  Duration,
  CachewireErrorCode,
  HttpCacheOptions,
  CacheControlOptions,
  CdnOptions,
  PurgeHook,
  PurgeEvent,
} from '@cachewire/http'
