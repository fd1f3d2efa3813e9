// A paired A/B of bench variants: each variant's server from this checkout and from another one
// (`--base`, a git worktree of the commit to compare with, built), run alternately, so the
// host's drift between rounds falls on both sides alike. Prints median req/s and server CPU per
// request, and new / base for each.
// `node bench/pair.mjs <variant>... --base ../base [--size 1024] [--rounds 5] [--connections 16]
// [--warmup 3] [--zipf-warmup 15] [--duration 3]` (needs wrk). Servers on core 0, wrk on core 1,
// as in bench/run.mjs.
// A -zipf variant first asks for each of its 10,000 keys once; -zipf and -miss loads use the
// wrk scripts bench/run.mjs uses (bench/load.mjs).
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadOf, median, startServer, stopServer, warmupSeconds, wrk } from './load.mjs'
import { storeEveryZipfKey } from './requests.mjs'

const { values: args, positionals: variants } = parseArgs({
  allowPositionals: true,
  options: {
    base: { type: 'string' },
    size: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '3' },
    'zipf-warmup': { type: 'string', default: '15' },
    duration: { type: 'string', default: '3' },
  },
})
const here = path.dirname(fileURLToPath(import.meta.url))
const baseServer = args.base === undefined ? undefined : path.resolve(args.base, 'bench/server.mjs')
if (variants.length === 0 || baseServer === undefined || !existsSync(baseServer)) {
  console.error('usage: node bench/pair.mjs <variant>... --base <other checkout, built>')
  process.exit(2)
}
const trees = { base: baseServer, new: path.join(here, 'server.mjs') }
const samples = {}
for (let round = 0; round < Number(args.rounds); round++) {
  for (const variant of variants) {
    for (const [tree, serverPath] of Object.entries(trees)) {
      const load = loadOf(variant)
      const { child, port } = await startServer(serverPath, variant, args.size)
      try {
        if (variant.endsWith('-zipf')) await storeEveryZipfKey(`http://127.0.0.1:${port}`)
        const run = { port, connections: args.connections, load }
        wrk({ ...run, seconds: warmupSeconds(variant, args) })
        const { rps, cpuUs } = wrk({ ...run, seconds: args.duration, pid: child.pid })
        ;(samples[variant] ??= { base: [], new: [] })[tree].push({ rps, cpuUs })
      } finally {
        await stopServer(child)
      }
    }
  }
}

console.log(
  `| variant (${args.size} B, ${args.rounds} rounds, -c${args.connections}) | base req/s | new req/s | new / base | base CPU µs/req | new CPU µs/req |`
)
console.log('|---|---:|---:|---:|---:|---:|')
for (const [variant, { base, new: next }] of Object.entries(samples)) {
  const [baseRps, newRps] = [base, next].map((list) => median(list.map((s) => s.rps)))
  const [baseCpu, newCpu] = [base, next].map((list) => median(list.map((s) => s.cpuUs)))
  console.log(
    `| ${variant} | ${Math.round(baseRps).toLocaleString('en-US')} | ${Math.round(newRps).toLocaleString('en-US')} | ${(newRps / baseRps).toFixed(2)} | ${baseCpu.toFixed(1)} | ${newCpu.toFixed(1)} |`
  )
}
