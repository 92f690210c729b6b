import { safetySuite } from './helpers/safety.js'

// 250 seeded runs with 7 validators (x10 under AUREON_SOAK=1)
safetySuite(7, 250)
