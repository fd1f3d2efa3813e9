export { createPrometheusMetrics } from './observability/prometheus-metrics.js'
export type {
  PrometheusMetricsOptions,
  PrometheusMetrics,
} from './observability/prometheus-metrics.js'
