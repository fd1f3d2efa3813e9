// The ratios the performance goals are read from: [label, variant, compared with, goal].
// bench/run.mjs reports them by req/s and CPU time, bench/instructions.mjs by instructions.
export const TARGETS = [
  ['Express middleware hit / Express floor', 'cachewire-express', 'express-floor', '≥ 0.95'],
  ['Express middleware hit / apicache', 'cachewire-express', 'apicache', '≥ 1.15'],
  ['Koa middleware hit / Koa floor', 'cachewire-koa', 'koa-floor', '≥ 0.9'],
  ['Koa middleware hit / koa-cash', 'cachewire-koa', 'koa-cash', '≥ 1.1'],
  ['Express front door / raw node:http', 'cachewire-express-front', 'raw-node', '≥ 0.95'],
  ['Koa front door / raw node:http', 'cachewire-koa-front', 'raw-node', '≥ 0.95'],
  ['Fastify plugin hit / Fastify floor', 'cachewire-fastify', 'fastify-floor', '—'],
  ['Fastify front door / raw node:http', 'cachewire-fastify-front', 'raw-node', '≥ 0.95'],
  // raw-node sends two lines; a hit sends six (ETag, Accept-Ranges, Age and Cache-Status too).
  // raw-node-same-lines sends those six, as a writeHead object Node checks line by line (a hit's
  // lines are checked once per entry): against it, what is left is the front door's own work.
  [
    'Express front door / raw node:http sending the same head',
    'cachewire-express-front',
    'raw-node-same-lines',
    '—',
  ],
  [
    'Koa front door / raw node:http sending the same head',
    'cachewire-koa-front',
    'raw-node-same-lines',
    '—',
  ],
  [
    'Fastify front door / raw node:http sending the same head',
    'cachewire-fastify-front',
    'raw-node-same-lines',
    '—',
  ],
  [
    'Express front door on Redis / on memory',
    'cachewire-express-front-redis',
    'cachewire-express-front',
    '≥ 0.6 (1 KB), ≥ 0.5 (50 KB)',
  ],
  [
    'Koa front door on Redis / on memory',
    'cachewire-koa-front-redis',
    'cachewire-koa-front',
    '≥ 0.6 (1 KB), ≥ 0.5 (50 KB)',
  ],
  [
    'Express front door on Redis through ioredis 6 / on memory',
    'cachewire-express-front-ioredis6',
    'cachewire-express-front',
    '≥ 0.6 (1 KB), ≥ 0.5 (50 KB)',
  ],
  [
    'Koa front door on Redis through ioredis 6 / on memory',
    'cachewire-koa-front-ioredis6',
    'cachewire-koa-front',
    '≥ 0.6 (1 KB), ≥ 0.5 (50 KB)',
  ],
  [
    'Express front door on Redis through node-redis / on memory',
    'cachewire-express-front-node-redis',
    'cachewire-express-front',
    '≥ 0.6 (1 KB), ≥ 0.5 (50 KB)',
  ],
  [
    'Koa front door on Redis through node-redis / on memory',
    'cachewire-koa-front-node-redis',
    'cachewire-koa-front',
    '≥ 0.6 (1 KB), ≥ 0.5 (50 KB)',
  ],
  [
    'Express front door tiered (memory L1 + Redis) / on memory',
    'cachewire-express-front-tiered',
    'cachewire-express-front',
    '≥ 0.6 (1 KB), ≥ 0.5 (50 KB)',
  ],
  [
    'Koa front door tiered (memory L1 + Redis) / on memory',
    'cachewire-koa-front-tiered',
    'cachewire-koa-front',
    '≥ 0.6 (1 KB), ≥ 0.5 (50 KB)',
  ],
  [
    'Express middleware, 10,000 Zipf keys / apicache',
    'cachewire-express-zipf',
    'apicache-zipf',
    '≥ 1.15',
  ],
  ['Koa middleware, 10,000 Zipf keys / koa-cash', 'cachewire-koa-zipf', 'koa-cash-zipf', '≥ 1.1'],
  [
    'Express middleware, every request a miss / apicache',
    'cachewire-express-miss',
    'apicache-miss',
    '—',
  ],
  ['Koa middleware, every request a miss / koa-cash', 'cachewire-koa-miss', 'koa-cash-miss', '—'],
  ['Express middleware hit / Express constant route', 'cachewire-express', 'express-constant', '—'],
  ['Koa middleware hit / Koa constant route', 'cachewire-koa', 'koa-constant', '—'],
  ['Fastify plugin hit / Fastify constant route', 'cachewire-fastify', 'fastify-constant', '—'],
]

/** The targets a run of `variants` has both sides of (a run with `--only` measures some). */
export function targetsAmong(variants) {
  return TARGETS.filter(([, a, b]) => variants.includes(a) && variants.includes(b))
}
