import { defineAureonConfig } from '../../vitest.shared.js'

export default defineAureonConfig({ coverageLines: 90 })
