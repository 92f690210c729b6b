import { defineAureonConfig } from '../../vitest.shared.js'

export default defineAureonConfig({ testTimeout: 60_000 })
