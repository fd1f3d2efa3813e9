/**
 * Real programs a test drives from outside Node (Varnish, Chromium): where they are, and the
 * same loud-skip rule as Redis (setup/redis.ts): missing on a laptop, a loud skip; missing under
 * CI=true, a failing test that says how to install it. `.ci/run` installs both with apt-get.
 */
import { accessSync, constants } from 'node:fs'
import { describe, expect, it } from 'vitest'

const onCI = process.env.CI === 'true'

export interface Binary {
  what: string
  /** Candidate paths; the first executable one is used. An env variable may name another. */
  paths: readonly string[]
  env: string
  install: string
}

export const VARNISHD: Binary = {
  what: 'Varnish (varnishd)',
  paths: ['/usr/sbin/varnishd', '/usr/local/sbin/varnishd', '/usr/bin/varnishd'],
  env: 'VARNISHD',
  install: 'apt-get install -y varnish',
}

export const CHROMIUM: Binary = {
  what: 'Chromium',
  paths: ['/usr/bin/chromium', '/usr/bin/chromium-browser'],
  env: 'CHROMIUM',
  install: 'apt-get install -y chromium',
}

/** The binary's path, or undefined when it is not installed. */
export function findBinary(binary: Binary): string | undefined {
  const fromEnv = process.env[binary.env]
  for (const path of fromEnv ? [fromEnv] : binary.paths) {
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not here; try the next
    }
  }
  return undefined
}

/**
 * `describe` that runs when `binary` is installed, with its path; a loud skip otherwise, and a
 * failure under CI=true.
 */
export function describeWithBinary(binary: Binary, name: string, fn: (path: string) => void): void {
  const path = findBinary(binary)
  if (path !== undefined) {
    describe(name, () => fn(path))
    return
  }
  const reason = `${binary.what} not found at ${binary.paths.join(' or ')} (set ${binary.env}, or: ${binary.install})`
  if (onCI) {
    describe(name, () => {
      it(`has the ${binary.what} it needs`, () => {
        throw new Error(`${binary.what} is required under CI=true: ${reason}`)
      })
    })
    return
  }
  console.error(
    `\n!!! SKIPPING ${binary.what} tests in ${expect.getState().testPath ?? name}: ${reason}\n`
  )
  describe.skip(name, () => fn(''))
}
