import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/kit.ts', 'src/operations.ts', 'src/metrics.ts', 'src/otel.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
