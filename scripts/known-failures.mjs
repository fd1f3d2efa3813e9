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
export const PENDING_CHECKS = {}

/** @type {Array<{ match: string, reason: string }>} */
export const KNOWN_PACKAGING_PROBLEMS = []
