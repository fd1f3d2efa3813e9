// ESLint flat config. Type-aware promise rules run on package sources only: fire-and-forget
// cache writes are part of the design, so each must be visibly `void`ed and caught, and those
// rules need type information, which only packages/*/src has a tsconfig for.
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import globals from 'globals'
import tseslint from 'typescript-eslint'

/** no-restricted-imports options from a list of forbidden module patterns. */
const forbid = (message, patterns, extra = {}) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: patterns, message, ...extra }] }],
})

const DIRECTION = 'ARCHITECTURE.md: adapters → http → core; nothing imports an adapter.'

export default defineConfig(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.redis-cluster/**',
      '**/coverage/**',
      '**/.turbo/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: globals.node },
    rules: {
      // `_`-prefixed parameters are deliberately unused (Express's (req, res, next) shape, say).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },

  // Type-aware rules on package sources.
  {
    files: ['packages/*/src/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
    },
  },

  // One concept per file, split at ~400 lines, counted without blank lines and comments.
  {
    files: ['packages/*/src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }] },
  },

  // Layer boundaries (ARCHITECTURE.md). A later block replaces an earlier one's options for the
  // files it matches, so each block lists everything forbidden there, not just the difference.
  {
    files: ['packages/core/src/**/*.ts'],
    rules: forbid(`core knows nothing of HTTP, frameworks or Redis. ${DIRECTION}`, [
      '@cachewire/*',
      'express',
      'koa',
      'fastify',
      'ioredis',
    ]),
  },
  {
    // Only the Redis entry point and stores may touch ioredis, so `@cachewire/core` stays free
    // of it for memory-only users.
    files: ['packages/core/src/redis.ts', 'packages/core/src/stores/redis-*.ts'],
    rules: forbid(`core knows nothing of HTTP or frameworks. ${DIRECTION}`, [
      '@cachewire/*',
      'express',
      'koa',
      'fastify',
    ]),
  },
  {
    files: ['packages/http/src/**/*.ts'],
    rules: forbid(`http knows HTTP, not frameworks or Redis. ${DIRECTION}`, [
      '@cachewire/express',
      '@cachewire/koa',
      '@cachewire/fastify',
      'express',
      'koa',
      'fastify',
      'ioredis',
    ]),
  },
  {
    files: ['packages/http/src/semantics/**/*.ts'],
    rules: forbid(`semantics/ is pure RFC rules: no store, no core, no I/O. ${DIRECTION}`, [
      '@cachewire/*',
      'express',
      'koa',
      'fastify',
      'ioredis',
    ]),
  },
  {
    files: ['packages/express/src/**/*.ts'],
    rules: forbid(
      `adapters see only @cachewire/http, which re-exports what they need. ${DIRECTION}`,
      [
        '@cachewire/core',
        '@cachewire/core/*',
        '@cachewire/koa',
        '@cachewire/fastify',
        'koa',
        'fastify',
        'ioredis',
      ]
    ),
  },
  {
    // The Keyv bridge builds on the core's public API only; keyv is its peer.
    files: ['packages/keyv/src/**/*.ts'],
    rules: forbid(`the Keyv bridge sees only @cachewire/core. ${DIRECTION}`, [
      '@cachewire/http',
      '@cachewire/express',
      '@cachewire/koa',
      '@cachewire/fastify',
      'express',
      'koa',
      'fastify',
      'ioredis',
    ]),
  },
  {
    files: ['packages/koa/src/**/*.ts'],
    rules: forbid(
      `adapters see only @cachewire/http, which re-exports what they need. ${DIRECTION}`,
      [
        '@cachewire/core',
        '@cachewire/core/*',
        '@cachewire/express',
        '@cachewire/fastify',
        'express',
        'fastify',
        'ioredis',
      ]
    ),
  },
  {
    files: ['packages/fastify/src/**/*.ts'],
    rules: forbid(
      `adapters see only @cachewire/http, which re-exports what they need. ${DIRECTION}`,
      [
        '@cachewire/core',
        '@cachewire/core/*',
        '@cachewire/express',
        '@cachewire/koa',
        'express',
        'koa',
        'ioredis',
      ]
    ),
  }
)
