/**
 * One place to hang "undo this when done" for helpers (clients, servers, proxies), so a test
 * never has to remember to close what a helper opened.
 *
 * Called inside a test (or its beforeEach), the cleanup runs when that test finishes. Called
 * anywhere else (beforeAll, describe body, module top level), it runs after the file's last test.
 * This file is also a setupFile of the integration project, so the file-level afterAll below is
 * registered on every test file's root suite, before (and so, under the default 'stack' hook
 * order, after) everything the file itself registers.
 */
import { afterAll, onTestFinished } from 'vitest'

type Cleanup = () => unknown

const fileCleanups: Cleanup[] = []

export function registerCleanup(cleanup: Cleanup): void {
  try {
    onTestFinished(async () => {
      await cleanup()
    })
  } catch {
    // onTestFinished throws outside a running test: fall back to the end of the file.
    fileCleanups.push(cleanup)
  }
}

afterAll(async () => {
  // Last registered, first undone: a server closes before the client it talks to.
  const errors: unknown[] = []
  for (const cleanup of fileCleanups.splice(0).reverse()) {
    try {
      await cleanup()
    } catch (error) {
      errors.push(error)
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'file-level cleanup failed')
})
