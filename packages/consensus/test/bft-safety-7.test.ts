import { safetySuite } from './helpers/safety.js'

// 150 seeded runs with 7 validators (x10 under AUREON_SOAK=1); a 7-validator run costs about
// three 4-validator ones, and CI has a 15-minute budget on 2 cores
safetySuite(7, 150)
