// Instructions per request of the main bench variants, counted by callgrind (bench/callgrind.mjs),
// with the same-run ratios of bench/RESULTS.md's targets, written to bench/INSTRUCTIONS.md.
// A count that other tenants of the host do not move: req/s and CPU time on a shared 2-core host
// swing by 1.5× between rounds, a count by a few per cent. It leaves out what the kernel does for
// a request (the socket writes) and the time lost to cache misses, so it complements the wrk
// table and does not replace it.
// `node bench/instructions.mjs [--runs 2] [--size 1024] [--only a,b] [--keep] [--out INSTRUCTIONS.md]`
// `--keep` (with `--only`): every other row is kept from the --out file's earlier run, so a few
// variants can be counted again after a change that touches only them.
// Each variant runs `--runs` times in its own server; the table gives the fewest instructions and
// the most. Work V8 does in the background on some runs (a late optimisation, or a deoptimised
// path it keeps running) only adds, so the fewest is the request's own cost. Garbage collection is
// the requests' own: the counted window is long enough to hold their share of it.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { targetsAmong } from './targets.mjs'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '2' },
    size: { type: 'string', default: '1024' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
    out: { type: 'string', default: fileURLToPath(new URL('./INSTRUCTIONS.md', import.meta.url)) },
  },
})

const VARIANTS = [
  'raw-node',
  'raw-node-same-lines',
  'express-floor',
  'apicache',
  'cachewire-express',
  'cachewire-express-front',
  'koa-floor',
  'koa-cash',
  'cachewire-koa',
  'cachewire-koa-front',
  'fastify-floor',
  'cachewire-fastify',
  'cachewire-fastify-front',
  'cachewire-express-front-redis',
  'cachewire-koa-front-redis',
  'cachewire-express-front-ioredis6',
  'cachewire-koa-front-ioredis6',
  'cachewire-express-front-node-redis',
  'cachewire-koa-front-node-redis',
  'cachewire-express-front-tiered',
  'cachewire-koa-front-tiered',
  'apicache-zipf',
  'cachewire-express-zipf',
  'koa-cash-zipf',
  'cachewire-koa-zipf',
  'apicache-miss',
  'cachewire-express-miss',
  'koa-cash-miss',
  'cachewire-koa-miss',
]
const counted = args.only ? args.only.split(',') : VARIANTS
if (args.keep && !args.only) {
  console.error('instructions: --keep keeps the rows that --only does not count; give --only')
  process.exit(2)
}
const variants = args.keep
  ? [...VARIANTS, ...counted.filter((variant) => !VARIANTS.includes(variant))]
  : counted
const runs = Number(args.runs)
// Enough for V8 to settle: at 5,000 a raw node:http server still counted ~7 % more than at 20,000.
const WARMUP = '20000'
// Counted requests: a window that spans several full collections. An Express app promotes enough
// of each request to old space for a Mark-Compact every ~5,000 requests (--trace-gc, express-floor
// and cachewire-express under wrk); in a window of 2,000 one fell or did not, and
// cachewire-express-zipf counted 380 k or 490 k on one build. Over 20,000: 412 k. apicache-miss
// (12 M instructions a request, a collection a few per cent of it) counts 2,000: 20,000 would
// take callgrind most of an hour.
const measured = (variant) => (variant === 'apicache-miss' ? '2000' : '20000')
const callgrind = fileURLToPath(new URL('./callgrind.mjs', import.meta.url))
const started = new Date()

const counts = new Map()
// `--keep`: the earlier run's rows (`| variant | fewest | most |`) and the line that says when.
let keptFrom
if (args.keep) {
  const earlier = readFileSync(args.out, 'utf8')
  keptFrom = /^Run on (\S+) by/m.exec(earlier)?.[1] ?? 'an earlier run'
  const earlierSize = /^Run on .* --size (\d+)/m.exec(earlier)?.[1]
  if (earlierSize !== args.size) {
    console.error(
      `instructions: ${args.out} counts ${earlierSize ?? 'another'} B bodies, not ${args.size}`
    )
    process.exit(2)
  }
  for (const [, variant, fewest, most] of earlier.matchAll(
    /^\| ([\w-]+) \| ([\d,]+) \| ([\d,]+) \|$/gm
  )) {
    if (counted.includes(variant)) continue
    counts.set(
      variant,
      [fewest, most].map((n) => Number(n.replaceAll(',', '')))
    )
  }
}
for (const variant of counted) {
  const list = []
  for (let run = 1; run <= runs; run++) {
    try {
      const out = execFileSync(
        process.execPath,
        [
          callgrind,
          variant,
          '--size',
          args.size,
          '--warmup',
          WARMUP,
          '--requests',
          measured(variant),
        ],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        }
      )
      const match = /: ([\d,]+) instructions\/request/.exec(out)
      if (match === null) throw new Error(`no count in: ${out.trim()}`)
      list.push(Number(match[1].replaceAll(',', '')))
      console.log(`${variant} run ${run}: ${match[1]} instructions/request`)
    } catch (error) {
      console.log(`${variant} run ${run}: unavailable: ${error.message.split('\n')[0]}`)
    }
  }
  if (list.length > 0) counts.set(variant, list)
}

const fewest = (variant) => (counts.has(variant) ? Math.min(...counts.get(variant)) : undefined)
const format = (n) => (n === undefined ? 'n/a' : n.toLocaleString('en-US'))
// Requests per instruction of a over b: b's instructions per request over a's.
const ratio = (a, b) => {
  const x = fewest(a)
  const y = fewest(b)
  return x && y ? (y / x).toFixed(2) : 'n/a'
}

const lines = [
  '# cachewire: instructions per request',
  '',
  `Run on ${started.toISOString()} by \`node bench/instructions.mjs --runs ${runs} --size ${args.size}${args.only ? ` --only ${args.only}` : ''}${args.keep ? ' --keep' : ''}\` (Node ${process.version}).`,
  '',
  ...(keptFrom === undefined
    ? []
    : [
        `- Counted in this run: ${counted.join(', ')}. Every other row is kept from the run of ${keptFrom}.`,
      ]),
  `- Each variant's server runs under callgrind (\`node bench/callgrind.mjs <variant> --size ${args.size} --warmup ${WARMUP} --requests 20000\`: ${Number(WARMUP).toLocaleString('en-US')} warm-up requests uncounted, then 20,000 counted over 4 keep-alive connections (2,000 for apicache-miss), a window that spans several full garbage collections of an Express app; a -zipf server is first asked for each of its 10,000 keys, a -miss load asks for a new path each time). ${runs} run${runs === 1 ? '' : 's'} per variant, each in a fresh server.`,
  "- Counted: the server process's user-space instructions (V8's background compiling left out). Not counted: the kernel's work for the socket writes and reads, and time lost to cache misses, which a load across many keys pays more of. So these ratios isolate the work the code does; bench/RESULTS.md has the time.",
  '',
  '| variant | fewest instructions/request | most |',
  '|---|---:|---:|',
]
for (const variant of variants) {
  const list = counts.get(variant)
  lines.push(
    `| ${variant} | ${format(list && Math.min(...list))} | ${format(list && Math.max(...list))} |`
  )
}
lines.push(
  '',
  '## Targets (requests per instruction, from the fewest counts above)',
  '',
  '| target | goal (by req/s) | ratio |',
  '|---|---|---:|'
)
for (const [name, a, b, goal] of targetsAmong(variants)) {
  lines.push(`| ${name} | ${goal} | ${ratio(a, b)} |`)
}
writeFileSync(args.out, `${lines.join('\n')}\n`)
console.log(`\nwrote ${args.out}`)
