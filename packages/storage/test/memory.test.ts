import { createMemoryStore } from '../src/index.js'
import { kvStoreConformance } from './conformance.js'

kvStoreConformance('MemoryStore', async () => createMemoryStore())
