import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/verify-worker.ts'],
  dts: { entry: 'src/index.ts' },
  format: ['esm'],
  clean: true,
  sourcemap: true,
  target: 'node20',
})
