/**
 * The Grafana dashboard in ops/grafana queries only metrics the exporter exports (a renamed or
 * dropped metric would leave a panel empty without anyone noticing), and shows every one of them.
 */
import { readFile } from 'node:fs/promises'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Cache, MemoryStore } from '@cachewire/core'
import { createHttpCache } from '@cachewire/http'
import { createPrometheusMetrics } from '@cachewire/http/metrics'

interface Panel {
  id: number
  type: string
  title: string
  datasource?: { type: string; uid: string }
  targets?: Array<{ expr: string; refId: string; datasource?: { uid: string } }>
}

const DASHBOARD = new URL('../../ops/grafana/cachewire.json', import.meta.url)
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/

async function dashboard(): Promise<{ title: string; uid: string; panels: Panel[] }> {
  return JSON.parse(await readFile(DASHBOARD, 'utf8')) as {
    title: string
    uid: string
    panels: Panel[]
  }
}

/** Every metric the exporter can export: an engine's, with a write-behind writer. */
async function exported(): Promise<Map<string, string>> {
  const register = new Registry()
  const engine = createHttpCache({
    ttl: '1m',
    storage: { cache: new Cache({ store: new MemoryStore() }) },
  })
  const writeBehind = {
    stats: () => ({
      queued: 0,
      persisted: 0,
      retried: 0,
      failed: 0,
      writtenThrough: 0,
      replayed: 0,
    }),
  }
  const metrics = createPrometheusMetrics({ engine, register, writeBehind })
  const types = new Map(
    (await register.getMetricsAsJSON()).map((metric) => [metric.name, String(metric.type)])
  )
  metrics.close()
  await engine.close()
  return types
}

/** The metric names a PromQL expression reads (histogram series folded to their histogram). */
function queried(expr: string, types: Map<string, string>): string[] {
  return [...expr.matchAll(/\bcachewire_[a-z0-9_]+\b/g)].map(([name]) => {
    const base = name.replace(HISTOGRAM_SERIES, '')
    return types.get(base) === 'histogram' ? base : name
  })
}

describe('the Grafana dashboard (ops/grafana/cachewire.json)', () => {
  it('queries only metrics the exporter exports, and every exported metric is on it', async () => {
    const types = await exported()
    const { panels } = await dashboard()
    const used = new Set<string>()
    for (const panel of panels.filter((candidate) => candidate.type !== 'row')) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0)
      for (const target of panel.targets ?? []) {
        for (const name of queried(target.expr, types)) {
          expect(
            types.has(name),
            `panel "${panel.title}" queries ${name}, which the exporter does not export`
          ).toBe(true)
          used.add(name)
        }
      }
    }
    expect([...types.keys()].filter((name) => !used.has(name))).toEqual([])
  })

  it('is importable: unique panel ids, the Prometheus data source as an input, histograms read through their buckets', async () => {
    const { title, uid, panels } = await dashboard()
    expect([title, uid]).toEqual(['cachewire', 'cachewire'])
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length)
    for (const panel of panels.filter((candidate) => candidate.type !== 'row')) {
      expect(panel.datasource?.uid).toBe('${DS_PROMETHEUS}')
      for (const target of panel.targets ?? []) {
        expect(target.datasource?.uid).toBe('${DS_PROMETHEUS}')
        if (target.expr.includes('histogram_quantile')) expect(target.expr).toMatch(/_bucket\[/)
      }
    }
  })
})
