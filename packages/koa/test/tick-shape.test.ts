import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const child = fileURLToPath(new URL('./fixtures/next-tick-feedback.mjs', import.meta.url))

/** V8's feedback for the four stores of nextTick's queue-entry literal, as the child printed it. */
async function literalStores(mode: 'cached' | 'bare' | 'store-first'): Promise<string[]> {
  const { stdout } = await run(
    process.execPath,
    ['--allow-natives-syntax', '--expose-gc', child, mode],
    { maxBuffer: 16 * 1024 * 1024 }
  )
  return [...stdout.matchAll(/slot #\d+ DefineKeyedOwnPropertyInLiteral (\w+)/g)].map(
    (match) => match[1] as string
  )
}

// Each case starts a Node process that loads Koa and serves requests: about a second here, and
// several times that on a loaded CI host, past vitest's 5 s default.
describe("process.nextTick's queue entries across a full GC", { timeout: 30_000 }, () => {
  it.each([
    ['behind cacheMiddleware', 'cached'],
    ['with a store connected before the middleware is built', 'store-first'],
  ] as const)('%s, every store of the entry literal stays monomorphic', async (_, mode) => {
    expect(await literalStores(mode)).toEqual([
      'MONOMORPHIC',
      'MONOMORPHIC',
      'MONOMORPHIC',
      'MONOMORPHIC',
    ])
  })

  // The control: what the held entry prevents. Node 20's V8 collects the entries' hidden class
  // when no entry is alive, and the stores go megamorphic for good.
  it.runIf(process.versions.node.startsWith('20.'))(
    'without it, a bare Koa app loses them to the runtime',
    async () => {
      expect(await literalStores('bare')).toContain('MEGAMORPHIC')
    }
  )
})
