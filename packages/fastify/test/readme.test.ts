/**
 * The README's TypeScript snippets, taken from README.md itself so they cannot drift: every one
 * typechecks against this package as a user imports it (`@cachewire/fastify`), and every one that
 * needs no Redis runs (its `port: 3000` made `port: 0`, its app closed afterwards).
 */
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const here = fileURLToPath(new URL('.', import.meta.url))
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string)
const dir = `${here}.readme-snippets/`
rmSync(dir, { recursive: true, force: true })
mkdirSync(dir, { recursive: true })
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('README snippets', () => {
  it('there are snippets to check', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(8)
  })

  it('every snippet typechecks', async () => {
    snippets.forEach((code, i) => writeFileSync(`${dir}snippet-${i}.ts`, `${code}\nexport {}\n`))
    writeFileSync(
      `${dir}tsconfig.json`,
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { rootDir: '.', noEmit: true, noUnusedLocals: false },
        include: ['*.ts'],
      })
    )
    const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url))
    const result = await promisify(execFile)(process.execPath, [
      tsc,
      '-p',
      `${dir}tsconfig.json`,
    ]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }))
    expect(result.stdout).toBe('')
  }, 60_000)

  snippets.forEach((code, i) => {
    if (code.includes('@cachewire/core/redis')) return
    it(`snippet ${i} runs: ${
      code
        .split('\n')
        .find((line) => line.includes('responseCache(') || line.includes('cachePlugin,'))
        ?.trim() ?? ''
    }`, async () => {
      const runnable = `${code.replaceAll('port: 3000', 'port: 0, host: "127.0.0.1"')}\nawait app.close()\n`
      const file = `${dir}run-${i}.ts`
      writeFileSync(file, runnable)
      await import(/* @vite-ignore */ file)
    })
  })
})
