import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { defineStoreContract } from '../src/testing.js'
import { MemoryStore } from '../src/stores/memory-store.js'
import { InvalidOptionError } from '../src/errors.js'

const here = dirname(fileURLToPath(import.meta.url))
const fixture = join(here, 'fixtures', 'node-test-contract.ts')

/** The contract's cases for a store without a peer (19 core + 9 data-cache cases + 3 bounded-set cases + 1 invalidation-result case). */
const CASES_WITHOUT_PEER = 32

function nodeTest(env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=tap', fixture],
      { cwd: join(here, '..'), env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : ((error as { code?: number }).code ?? 1),
          out: stdout + stderr,
        })
    )
  })
}

function tapCount(out: string, what: 'pass' | 'fail'): number {
  const match = new RegExp(`^# ${what} (\\d+)$`, 'm').exec(out)
  return match === null ? Number.NaN : Number(match[1])
}

describe('defineStoreContract under node:test (no vitest, no hooks)', () => {
  it('runs every case against MemoryStore, and they pass', { timeout: 60_000 }, async () => {
    const { code, out } = await nodeTest()
    expect(out).toMatch(/Store contract: MemoryStore/)
    expect(tapCount(out, 'pass')).toBe(CASES_WITHOUT_PEER)
    expect(tapCount(out, 'fail')).toBe(0)
    expect(code).toBe(0)
  })

  it('fails the run for a store that breaks the contract', { timeout: 60_000 }, async () => {
    const { code, out } = await nodeTest({ CONTRACT_STORE: 'forgetful' })
    expect(out).toMatch(/deletes one key and reports whether it existed/)
    expect(tapCount(out, 'fail')).toBeGreaterThan(0)
    expect(code).not.toBe(0)
  })
})

describe('defineStoreContract(options)', () => {
  const runner = { describe, it }

  it('needs a runner with describe and it', () => {
    expect(() =>
      defineStoreContract({ name: 'x', create: () => new MemoryStore() } as never)
    ).toThrow(/options\.runner/)
    expect(() =>
      defineStoreContract({
        name: 'x',
        create: () => new MemoryStore(),
        runner: { describe } as never,
      })
    ).toThrow(InvalidOptionError)
  })

  it('rejects unknown options, naming the nearest known one', () => {
    expect(() =>
      defineStoreContract({
        name: 'x',
        create: () => new MemoryStore(),
        runner,
        cleanUp: () => {},
      } as never)
    ).toThrow(/options\.cleanUp to be a known option \(did you mean "cleanup"\?\)/)
  })
})
