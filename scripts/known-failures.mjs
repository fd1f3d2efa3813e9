/**
 * Checks that fail on purpose for now, each with the work that will make it pass. One file, so
 * the lead can see (and empty) the whole list at a glance once the branches are merged.
 *
 * - PENDING_CHECKS: steps of `pnpm check` (scripts/check.mjs) that run and print their result
 *   but do not fail CI yet.
 * - KNOWN_PACKAGING_PROBLEMS: problems of the packaging check (scripts/check-packages.mjs and
 *   test/packaging) that are allowed for now; any problem not matched here fails. A problem
 *   matches an entry when its text includes `match`.
 * Both print a line when an entry no longer matches anything, so it can go.
 */

/** @type {Record<string, string>} step name → why it fails today */
export const PENDING_CHECKS = {
  'format:check':
    'the repo predates Prettier; the lead runs `npx -y pnpm@10.34.8 format` once every branch is merged',
}

const TESTING = 'core branch: @cachewire/core/testing ships ESM+CJS and no longer imports vitest'
const ERROR_OPTIONS =
  'core branch: public types say { cause?: unknown }, not ErrorOptions (ES2022 lib)'

/** @type {Array<{ match: string, reason: string }>} */
export const KNOWN_PACKAGING_PROBLEMS = [
  { match: '@cachewire/core: exports["./testing"] has no "require" condition', reason: TESTING },
  { match: '@cachewire/core/testing: attw node10: NoResolution', reason: TESTING },
  { match: '@cachewire/core/testing: attw node16-cjs: NoResolution', reason: TESTING },
  { match: "Cannot find module '@cachewire/core/testing'", reason: TESTING },
  {
    match:
      "@cachewire/core/testing: import() failed: Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'vitest'",
    reason: TESTING,
  },
  {
    match: '@cachewire/core/testing: require() failed: Error [ERR_PACKAGE_PATH_NOT_EXPORTED]',
    reason: TESTING,
  },
  { match: "error TS2304: Cannot find name 'ErrorOptions'", reason: ERROR_OPTIONS },
]
