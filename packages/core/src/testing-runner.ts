/**
 * The test functions of your test framework. vitest, jest, mocha (BDD) and `node:test` all have
 * them under these names. `beforeEach`/`afterEach` are optional: without both, each case creates
 * its store and cleans up inside its own `it`.
 *
 * @example
 * ```ts
 * import { describe, it, beforeEach, afterEach } from 'node:test'
 * import type { ContractRunner } from '@cachewire/core/testing'
 * const runner: ContractRunner = { describe, it, beforeEach, afterEach }
 * ```
 */
export interface ContractRunner {
  describe: (name: string, body: () => void) => unknown
  it: (name: string, body: () => Promise<void>) => unknown
  beforeEach?: ((body: () => Promise<void>) => unknown) | undefined
  afterEach?: ((body: () => Promise<void>) => unknown) | undefined
}
