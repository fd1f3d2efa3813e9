#!/usr/bin/env node
/**
 * What failed in a vitest run, from its JSON report: `node scripts/ci-failures.mjs <label>
 * <report.json>`. Prints a count line, then each failed file and test with the first lines of its
 * message. .ci/run prints it for both of its vitest runs again at the very end of its output, so
 * the tail of a CI log (often all a reader gets) names what failed, not only that something did.
 * A missing or unreadable report is said to be so; the exit code is always 0 (the runs decide).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { stripVTControlCharacters } from 'node:util'

const MESSAGE_LINES = 6
const MESSAGE_CHARS = 600

/** @param {string | undefined} text */
function excerpt(text) {
  if (!text) return []
  // The JSON report keeps the terminal's colour codes in messages.
  const plain = stripVTControlCharacters(text).slice(0, MESSAGE_CHARS)
  return plain
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, MESSAGE_LINES)
    .map((line) => `      ${line}`)
}

const [label = 'vitest', file] = process.argv.slice(2)
/** @type {any} */
let report
try {
  report = JSON.parse(readFileSync(file ?? '', 'utf8'))
} catch (error) {
  console.log(`${label}: no readable report (${error instanceof Error ? error.message : error})`)
  process.exit(0)
}

try {
  const failedFiles = report.testResults.filter(
    (/** @type {any} */ result) =>
      result.status === 'failed' ||
      result.assertionResults.some((/** @type {any} */ test) => test.status === 'failed')
  )
  console.log(
    `${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ` +
      `${report.numPendingTests + report.numTodoTests} skipped; ${failedFiles.length} file(s) with failures`
  )
  const root = process.cwd()
  for (const result of failedFiles) {
    console.log(`  ✗ ${path.relative(root, result.name)}`)
    const failedTests = result.assertionResults.filter(
      (/** @type {any} */ test) => test.status === 'failed'
    )
    // A file can fail with no failed test (an import error, a failed hook): its own message says why.
    if (failedTests.length === 0) for (const line of excerpt(result.message)) console.log(line)
    for (const test of failedTests) {
      console.log(`    ✗ ${test.fullName}`)
      for (const line of excerpt(test.failureMessages?.join('\n'))) console.log(line)
    }
  }
} catch (error) {
  // A report of another shape (a newer vitest): say so rather than stop CI's closing summary.
  console.log(`${label}: report not understood (${error instanceof Error ? error.message : error})`)
}
