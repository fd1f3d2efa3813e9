export { createHttpCache, HttpCache } from './engine/http-cache.js'
export { resolveRoutePolicy } from './options/resolve-route.js'
export type {
  HttpCacheOptions,
  StorageOptions,
  FreshnessOptions,
  HeuristicOptions,
  StaleOptions,
  KeysOptions,
  SafetyOptions,
  MaxKeysPerWindow,
  CoalesceOptions,
  CdnOptions,
  ObservabilityOptions,
  RouteOptions,
} from './options/types.js'
export type {
  HttpRequest,
  OriginRequest,
  CapturedResponse,
  RunHandler,
  Outcome,
  ReplyOutcome,
  ForwardOutcome,
  RoutePolicy,
  KeyFunction,
  TagsOption,
  PrivateKeyFunction,
  CacheScope,
} from './types.js'
export type { HttpCacheStats } from './observability/engine-observer.js'
export type { PurgeHook, PurgeEvent } from './cdn/purge-hook.js'
export { Reason } from './semantics/reasons.js'
export { cacheControl } from './headers/cache-control-value.js'
export type { CacheControlOptions } from './headers/cache-control-value.js'
export { parseCacheControl } from './semantics/cache-control.js'
export type { CacheControlDirectives } from './semantics/cache-control.js'
export { isNotModified } from './semantics/conditional.js'
export { generateEtag } from './semantics/etag.js'
export {
  Cache,
  MemoryStore,
  CachewireError,
  InvalidOptionError,
  InvalidArgumentError,
} from '@cachewire/core'
export type { Store, Duration, CachewireErrorCode } from '@cachewire/core'
