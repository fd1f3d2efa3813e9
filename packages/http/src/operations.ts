/**
 * `@cachewire/http/operations`: running a cache in production. The purge API and inspector page
 * (mounted by the adapters' `purgeRouter`), the Varnish purger, and the diagnostics_channel names
 * the engine publishes on. No optional dependency is imported here; the engine never imports this.
 */
export { createPurgeApi, MIN_PURGE_TOKEN_LENGTH } from './observability/purge-api.js'
export type {
  PurgeApiOptions,
  PurgeApiRequest,
  PurgeApiResponse,
  PurgeLogEntry,
  PurgeKind,
  PurgeResult,
} from './observability/purge-api.js'
export { readJsonBody } from './observability/read-json-body.js'
export { createHealthChecks, livenessAnswer } from './observability/health-checks.js'
export type {
  HealthCheckOptions,
  HealthAnswer,
  HealthChecks,
  HealthTarget,
} from './observability/health-checks.js'
export { varnishPurger, surrogateKeyRegex } from './cdn/varnish-purger.js'
export type { VarnishPurgerOptions } from './cdn/varnish-purger.js'
export { DiagnosticsChannel } from './observability/diagnostics.js'
export type {
  LookupResult,
  LookupMessage,
  BypassMessage,
  StoreMessage,
  InvalidateMessage,
} from './observability/diagnostics.js'
export { HttpTracingChannel } from './observability/tracing.js'
export type {
  HttpTraceContext,
  LookupTraceContext,
  EntryWriteTraceContext,
  RevalidateTraceContext,
} from './observability/tracing.js'
export type { HttpCacheStats, StoreListener } from './observability/engine-observer.js'
export type { RouteStats } from './observability/route-counts.js'
export type { Fault } from './observability/fault-history.js'
export type { PathStats } from './observability/top-paths.js'
