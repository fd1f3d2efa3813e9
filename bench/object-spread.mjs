// What building an object from another costs in this Node's V8, per shape of the expression: the
// reason per-request code in packages/http and packages/core names every field instead of writing
// `{ ...input, extra }`. On Node 20 (V8 11.3) a spread's copy that gains a field takes the slow way
// through the runtime for each new field, while a spread that only replaces fields does not.
// `node bench/object-spread.mjs [--ops 300000] [--rounds 3]` (nanoseconds per object, the last round).
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    ops: { type: 'string', default: '300000' },
    rounds: { type: 'string', default: '3' },
  },
})
const OPS = Number(args.ops)
const ROUNDS = Number(args.rounds)

// A captured response, as the miss path has it.
function captured(i) {
  return { status: 200, pairs: [], body: null, complete: true, requestTime: i, responseTime: i + 1 }
}

const cases = {
  'spread, one new field': (input) => ({ ...input, index: undefined }),
  'spread, five new fields': (input, i) => ({
    ...input,
    index: undefined,
    key: i,
    facts: input,
    tags: [],
    route: undefined,
  }),
  'spread, one field replaced': (input) => ({ ...input, status: 201 }),
  'Object.assign onto a literal, five fields': (input, i) =>
    Object.assign(
      { status: input.status, pairs: input.pairs },
      { index: undefined, key: i, facts: input, tags: [], route: undefined }
    ),
  'literal naming every field': (input, i) => ({
    status: input.status,
    pairs: input.pairs,
    body: input.body,
    complete: input.complete,
    requestTime: input.requestTime,
    responseTime: input.responseTime,
    index: undefined,
    key: i,
    facts: input,
    tags: [],
    route: undefined,
  }),
}

let sink
const last = {}
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, make] of Object.entries(cases)) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < OPS; i++) sink = make(captured(i), i)
    last[name] = Number(process.hrtime.bigint() - started) / OPS
  }
}
if (sink === undefined) throw new Error('unreachable')
console.log(`| expression (Node ${process.version}) | ns per object |`)
console.log('|---|---:|')
for (const [name, ns] of Object.entries(last)) console.log(`| ${name} | ${ns.toFixed(1)} |`)
