/** Opcode tables for the integer-only WebAssembly subset contracts may use. */

const FLOAT_NAMES: Record<number, string> = {
  42: 'f32.load',
  43: 'f64.load',
  56: 'f32.store',
  57: 'f64.store',
  67: 'f32.const',
  68: 'f64.const',
}
const CMP = ['eq', 'ne', 'lt', 'gt', 'le', 'ge']
for (let i = 0; i < 6; i++) {
  FLOAT_NAMES[0x5b + i] = `f32.${CMP[i]}`
  FLOAT_NAMES[0x61 + i] = `f64.${CMP[i]}`
}
const FARITH = [
  'abs',
  'neg',
  'ceil',
  'floor',
  'trunc',
  'nearest',
  'sqrt',
  'add',
  'sub',
  'mul',
  'div',
  'min',
  'max',
  'copysign',
]
for (let i = 0; i < 14; i++) {
  FLOAT_NAMES[0x8b + i] = `f32.${FARITH[i]}`
  FLOAT_NAMES[0x99 + i] = `f64.${FARITH[i]}`
}
const CONV: Array<[number, string]> = [
  [0xa8, 'i32.trunc_f32_s'],
  [0xa9, 'i32.trunc_f32_u'],
  [0xaa, 'i32.trunc_f64_s'],
  [0xab, 'i32.trunc_f64_u'],
  [0xae, 'i64.trunc_f32_s'],
  [0xaf, 'i64.trunc_f32_u'],
  [0xb0, 'i64.trunc_f64_s'],
  [0xb1, 'i64.trunc_f64_u'],
  [0xb2, 'f32.convert_i32_s'],
  [0xb3, 'f32.convert_i32_u'],
  [0xb4, 'f32.convert_i64_s'],
  [0xb5, 'f32.convert_i64_u'],
  [0xb6, 'f32.demote_f64'],
  [0xb7, 'f64.convert_i32_s'],
  [0xb8, 'f64.convert_i32_u'],
  [0xb9, 'f64.convert_i64_s'],
  [0xba, 'f64.convert_i64_u'],
  [0xbb, 'f64.promote_f32'],
  [0xbc, 'i32.reinterpret_f32'],
  [0xbd, 'i64.reinterpret_f64'],
  [0xbe, 'f32.reinterpret_i32'],
  [0xbf, 'f64.reinterpret_i64'],
]
for (const [op, name] of CONV) FLOAT_NAMES[op] = name

/** True for every opcode that touches f32/f64. */
export function isFloatOpcode(op: number): boolean {
  return FLOAT_NAMES[op] !== undefined
}

/** A readable name of an opcode for error messages (`f32.add (0x92)`). */
export function opcodeName(op: number, sub?: number): string {
  const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`
  if (sub !== undefined) {
    const prefix =
      op === 0xfc ? 'misc' : op === 0xfd ? 'simd' : op === 0xfe ? 'atomic' : `prefix ${hex(op)}`
    const satNames = [
      'i32.trunc_sat_f32_s',
      'i32.trunc_sat_f32_u',
      'i32.trunc_sat_f64_s',
      'i32.trunc_sat_f64_u',
      'i64.trunc_sat_f32_s',
      'i64.trunc_sat_f32_u',
      'i64.trunc_sat_f64_s',
      'i64.trunc_sat_f64_u',
    ]
    if (op === 0xfc && sub < 8) return `${satNames[sub]} (${hex(op)} ${sub})`
    if (op === 0xfc && sub === 15) return `table.grow (${hex(op)} ${sub})`
    if (op === 0xfc && sub === 16) return `table.size (${hex(op)} ${sub})`
    if (op === 0xfc && sub === 17) return `table.fill (${hex(op)} ${sub})`
    return `${prefix} ${sub} (${hex(op)} ${sub})`
  }
  const named = FLOAT_NAMES[op] ?? OTHER_NAMES[op]
  return named ? `${named} (${hex(op)})` : hex(op)
}

const OTHER_NAMES: Record<number, string> = {
  6: 'try',
  7: 'catch',
  8: 'throw',
  9: 'rethrow',
  10: 'throw_ref',
  18: 'return_call',
  19: 'return_call_indirect',
  20: 'call_ref',
  21: 'return_call_ref',
  24: 'delegate',
  25: 'catch_all',
  28: 'select (typed)',
  31: 'try_table',
  37: 'table.get',
  38: 'table.set',
  208: 'ref.null',
  209: 'ref.is_null',
  210: 'ref.func',
}

/** Kinds of plain (immediate-free) integer instructions, by opcode. 0 = not a plain op. */
export const PLAIN_UNARY = 1 // pops 1, pushes 1
export const PLAIN_BINARY = 2 // pops 2, pushes 1
export const plainKind = new Uint8Array(256)
// comparisons
plainKind[0x45] = PLAIN_UNARY // i32.eqz
for (let op = 0x46; op <= 0x4f; op++) plainKind[op] = PLAIN_BINARY
plainKind[0x50] = PLAIN_UNARY // i64.eqz
for (let op = 0x51; op <= 0x5a; op++) plainKind[op] = PLAIN_BINARY
// i32 arithmetic
for (let op = 0x67; op <= 0x69; op++) plainKind[op] = PLAIN_UNARY
for (let op = 0x6a; op <= 0x78; op++) plainKind[op] = PLAIN_BINARY
// i64 arithmetic
for (let op = 0x79; op <= 0x7b; op++) plainKind[op] = PLAIN_UNARY
for (let op = 0x7c; op <= 0x8a; op++) plainKind[op] = PLAIN_BINARY
// conversions and sign extension
plainKind[0xa7] = PLAIN_UNARY
plainKind[0xac] = PLAIN_UNARY
plainKind[0xad] = PLAIN_UNARY
for (let op = 0xc0; op <= 0xc4; op++) plainKind[op] = PLAIN_UNARY

/** The instruction class of a plain op, used to look up its gas cost. */
export function plainClass(op: number): 'arith' | 'bitcount' | 'mul' | 'div' {
  if ((op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b)) return 'bitcount'
  if (op === 0x6c || op === 0x7e) return 'mul'
  if ((op >= 0x6d && op <= 0x70) || (op >= 0x7f && op <= 0x82)) return 'div'
  return 'arith'
}
