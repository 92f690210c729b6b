/**
 * The V8 tier contracts run in. The gas schedule (docs/gas.md) is calibrated on V8's optimizing
 * tier (TurboFan). V8's baseline tier (Liftoff), which runs the first calls of a freshly compiled
 * module, does not inline calls, so a call there costs up to ~18x what it is charged. A node calls
 * `useOptimizingTierOnly()` once at start, before any WebAssembly module is compiled, so every
 * contract call runs optimized code and the schedule's ns per gas holds for every call. Gas itself
 * is counted by the instrumentation and is the same in every tier: this changes time, never gas.
 */
import { setFlagsFromString } from 'node:v8'

let optimizingOnly = false

/**
 * Makes V8 compile WebAssembly with its optimizing tier only (`--no-liftoff`) for the rest of the
 * process. Modules compiled before the call keep their code. Idempotent.
 * @example
 * import { useOptimizingTierOnly } from '@aureon/runtime'
 * useOptimizingTierOnly() // first thing in a node's entry point
 */
export function useOptimizingTierOnly(): void {
  if (optimizingOnly) return
  setFlagsFromString('--no-liftoff')
  optimizingOnly = true
}

/** Whether `useOptimizingTierOnly()` was called in this process. */
export function isOptimizingTierOnly(): boolean {
  return optimizingOnly
}
