import { defineConfig } from 'tsup'

export default defineConfig([
  {
    entry: ['src/index.ts', 'src/redis.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    external: ['ioredis'],
  },
  {
    // The store contract asserts with node:assert and takes the test functions from its caller:
    // it imports no test framework, so it ships as ESM and CJS like the other entries. Built
    // apart, so that it carries its own copy of Cache and never joins the main entries' chunks.
    entry: ['src/testing.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    external: ['ioredis'],
  },
])
