import http from 'node:http'

export interface Sample {
  at: number
  ms: number
  status: number
  hit: boolean
}

export interface LoadSummary {
  requests: number
  errors: number
  non2xx: number
  p50: number
  p99: number
  hitRatio: number
}

/**
 * Steady closed-loop load on loopback: `concurrency` clients, each sending its next request as
 * soon as the previous answers, over keep-alive. Stops by itself after `durationMs`.
 */
export async function runLoad(options: {
  url: (i: number) => string
  concurrency: number
  durationMs: number
  timeoutMs?: number
}): Promise<Sample[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency })
  const samples: Sample[] = []
  const until = performance.now() + options.durationMs
  let counter = 0
  const one = (url: string): Promise<Sample> =>
    new Promise((resolve) => {
      const started = performance.now()
      const req = http.get(url, { agent, timeout: options.timeoutMs ?? 10_000 }, (res) => {
        res.resume()
        res.on('end', () =>
          resolve({
            at: started,
            ms: performance.now() - started,
            status: res.statusCode ?? 0,
            hit: /;\s*hit/.test(String(res.headers['cache-status'] ?? '')),
          })
        )
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', () =>
        resolve({ at: started, ms: performance.now() - started, status: 0, hit: false })
      )
    })
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < until) samples.push(await one(options.url(counter++)))
    })
  )
  agent.destroy()
  return samples
}

export function summarise(samples: readonly Sample[]): LoadSummary {
  const latencies = samples.map((s) => s.ms).sort((a, b) => a - b)
  const pick = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return {
    requests: samples.length,
    errors: samples.filter((s) => s.status === 0).length,
    non2xx: samples.filter((s) => s.status !== 0 && (s.status < 200 || s.status >= 300)).length,
    p50: pick(0.5),
    p99: pick(0.99),
    hitRatio: samples.length === 0 ? 0 : samples.filter((s) => s.hit).length / samples.length,
  }
}
