import { fileURLToPath } from 'node:url'
import { mergeConfig } from 'vitest/config'
import { defineAureonConfig } from '../../vitest.shared.js'

// The shared alias matches `@aureon/[a-z-]+`, which misses the digit in `p2p`: map this package
// to its sources here so the example and tests run without a build.
export default mergeConfig(defineAureonConfig({ coverageLines: 70 }), {
  resolve: {
    alias: [
      {
        find: /^@aureon\/p2p$/,
        replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
      },
    ],
  },
})
