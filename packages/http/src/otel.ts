/**
 * `@cachewire/http/otel`: OpenTelemetry spans for cachewire's tracing channels (the engine's and
 * the core cache's). The only importer of the optional peer `@opentelemetry/api`.
 */
export { instrumentCachewire } from './observability/otel-bridge.js'
export type {
  OpenTelemetryOptions,
  OpenTelemetryInstrumentation,
} from './observability/otel-bridge.js'
