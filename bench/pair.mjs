// A paired A/B of bench variants: each variant's server from this checkout and from another one
// (`--base`, a git worktree of the commit to compare with, built), run alternately, so the
// host's drift between rounds falls on both sides alike. Prints median req/s and server CPU per
// request, and new / base for each.
// `node bench/pair.mjs <variant>... --base ../base [--size 1024] [--rounds 5] [--connections 16]
// [--warmup 3] [--duration 3]` (needs wrk). Servers on core 0, wrk on core 1, as bench/run.mjs.
// A -zipf variant first asks for each of its 10,000 keys once and loads with bench/zipf.lua.
import { execFileSync, fork, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { storeEveryZipfKey } from './requests.mjs'

const { values: args, positionals: variants } = parseArgs({
  allowPositionals: true,
  options: {
    base: { type: 'string' },
    size: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '3' },
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
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100

function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12])
}

async function start(serverPath, variant) {
  const child = fork(serverPath, [variant], {
    env: { ...process.env, PORT: '0', BODY_BYTES: args.size, NODE_ENV: 'production' },
    execPath: 'taskset',
    execArgv: ['-c', '0', process.execPath],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const [message] = await once(child, 'message')
  return { child, port: message.listening }
}

function wrk(port, seconds, zipf) {
  const script = zipf ? ['-s', path.join(here, 'zipf.lua')] : []
  const output = execFileSync(
    'taskset',
    ['-c', '1', 'wrk', '-t1', `-c${args.connections}`, `-d${seconds}s`, ...script]
      .concat(`http://127.0.0.1:${port}/data`)
      .concat(zipf ? ['--', String(process.pid)] : []),
    { encoding: 'utf8' }
  )
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]),
    requests: Number(/(\d+) requests in/.exec(output)?.[1]),
  }
}

const samples = {}
for (let round = 0; round < Number(args.rounds); round++) {
  for (const variant of variants) {
    for (const [tree, serverPath] of Object.entries(trees)) {
      const zipf = variant.endsWith('-zipf')
      const { child, port } = await start(serverPath, variant)
      if (zipf) await storeEveryZipfKey(`http://127.0.0.1:${port}`)
      wrk(port, args.warmup, zipf)
      const before = cpuTicks(child.pid)
      const { rps, requests } = wrk(port, args.duration, zipf)
      const cpuMicros = ((cpuTicks(child.pid) - before) / CLOCK_TICKS / requests) * 1e6
      ;(samples[variant] ??= { base: [], new: [] })[tree].push({ rps, cpuMicros })
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]
console.log(
  `| variant (${args.size} B, ${args.rounds} rounds, -c${args.connections}) | base req/s | new req/s | new / base | base CPU µs/req | new CPU µs/req |`
)
console.log('|---|---:|---:|---:|---:|---:|')
for (const [variant, { base, new: next }] of Object.entries(samples)) {
  const [baseRps, newRps] = [base, next].map((list) => median(list.map((s) => s.rps)))
  const [baseCpu, newCpu] = [base, next].map((list) => median(list.map((s) => s.cpuMicros)))
  console.log(
    `| ${variant} | ${Math.round(baseRps).toLocaleString('en-US')} | ${Math.round(newRps).toLocaleString('en-US')} | ${(newRps / baseRps).toFixed(2)} | ${baseCpu.toFixed(1)} | ${newCpu.toFixed(1)} |`
  )
}
