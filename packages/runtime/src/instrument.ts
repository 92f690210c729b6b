import { createHash } from 'node:crypto'
import { HOST_IMPORTS, I32, I64, signatureToString } from './abi.js'
import { RuntimeErrorCode as Code, RuntimeError, type RuntimeErrorCode } from './errors.js'
import {
  DEFAULT_GAS_SCHEDULE,
  GAS_GLOBAL_EXPORT,
  type GasSchedule,
  INSTRUMENT_SECTION,
  INSTRUMENT_VERSION,
  MAX_CODE_SIZE,
  MAX_FUNCTIONS,
  MAX_GLOBALS,
  MAX_LOCALS,
  MAX_MEMORY_PAGES,
  MAX_TABLE_ENTRIES,
  STACK_FRAME_OVERHEAD,
  STACK_GLOBAL_EXPORT,
  STACK_LIMIT,
} from './params.js'
import { malformed, Reader, Writer } from './wasm/bytes.js'
import { Wasm } from './wasm/engine.js'
import {
  isFloatOpcode,
  opcodeName,
  PLAIN_BINARY,
  PLAIN_UNARY,
  plainClass,
  plainKind,
} from './wasm/opcodes.js'

/** A function type of the module. */
export interface FuncType {
  params: number[]
  results: number[]
}

/** What instrumentation reports about a module. */
export interface InstrumentInfo {
  /** sha256 of the submitted (original) bytes. */
  originalHash: Uint8Array
  originalSize: number
  instrumentedSize: number
  /** Functions defined by the module (not imported). */
  functionCount: number
  /** Names of the exports callable by a transaction (type `() -> ()`). */
  callable: string[]
  /** Host imports the module uses. */
  imports: string[]
  /** True when the memory is imported as `env.memory`. */
  importsMemory: boolean
  /** Initial pages of the memory. */
  memoryPages: number
  version: number
}

export interface InstrumentResult {
  code: Uint8Array
  info: InstrumentInfo
}

export interface InstrumentOptions {
  schedule?: GasSchedule
  /** Stack limit in units (default STACK_LIMIT). */
  stackLimit?: number
  /** Skip Wasm.validate of the input (only for already validated bytes). */
  skipEngineValidation?: boolean
}

function refuse(
  code: RuntimeErrorCode,
  rule: string,
  message: string,
  extra: Record<string, unknown> = {},
): RuntimeError {
  return new RuntimeError(code, `contract refused (rule: ${rule}): ${message}`, { rule, ...extra })
}

function checkValType(v: number, where: string, extra: Record<string, unknown> = {}): void {
  if (v === I32 || v === I64) return
  if (v === 0x7d || v === 0x7c) {
    throw refuse(
      Code.FLOAT,
      'no floats',
      `${where} uses type ${v === 0x7d ? 'f32' : 'f64'}; floats are refused (NaN bits differ between machines)`,
      extra,
    )
  }
  if (v === 0x7b) {
    throw refuse(Code.UNSUPPORTED_FEATURE, 'no SIMD', `${where} uses type v128 (SIMD)`, extra)
  }
  throw refuse(
    Code.UNSUPPORTED_FEATURE,
    'features: WebAssembly 1.0 + mutable-globals, sign-extension, bulk-memory, multi-value',
    `${where} uses value type 0x${v.toString(16)} (reference types / GC are refused)`,
    extra,
  )
}

interface Section {
  id: number
  start: number // payload start
  end: number // payload end
  name?: string
}

/** Section order ranks (datacount, id 12, sits before code). */
const rank = (id: number) => (id === 12 ? 9.5 : id)

/**
 * Validates a contract against every rule of the contract ABI and returns its instrumented bytes:
 * gas charged per basic block through an injected mutable global, memory.grow / bulk-memory
 * costs, and a deterministic stack-height limiter. The output is the same on every node for the
 * same input and `INSTRUMENT_VERSION`. Throws a RuntimeError naming the rule (and the function
 * index and opcode where they apply) for a refused module.
 *
 * @example
 * const { code, info } = instrumentContract(wasmBytes)
 * console.log(info.callable, code.length)
 */
export function instrumentContract(
  input: Uint8Array,
  opts: InstrumentOptions = {},
): InstrumentResult {
  const schedule = opts.schedule ?? DEFAULT_GAS_SCHEDULE
  const stackLimit = opts.stackLimit ?? STACK_LIMIT
  if (input.length > MAX_CODE_SIZE) {
    throw refuse(
      Code.CODE_TOO_LARGE,
      'code size at most 512 KiB',
      `the code is ${input.length} bytes; at most ${MAX_CODE_SIZE} bytes are accepted`,
      { size: input.length, limit: MAX_CODE_SIZE },
    )
  }
  if (
    input.length < 8 ||
    input[0] !== 0 ||
    input[1] !== 0x61 ||
    input[2] !== 0x73 ||
    input[3] !== 0x6d
  ) {
    throw malformed('missing \\0asm magic', 0)
  }
  if (input[4] !== 1 || input[5] !== 0 || input[6] !== 0 || input[7] !== 0) {
    throw malformed('unsupported binary version (expected 1)', 4)
  }

  // ---- sections
  const r = new Reader(input, 8)
  const sections: Section[] = []
  let lastRank = 0
  while (r.p < r.end) {
    const id = r.u8()
    const size = r.u32()
    const start = r.p
    if (start + size > r.end) throw malformed(`section ${id} runs past the end`, start)
    const s: Section = { id, start, end: start + size }
    if (id === 0) {
      const nr = new Reader(input, start, start + size)
      s.name = nr.name()
      if (s.name === INSTRUMENT_SECTION) {
        throw refuse(
          Code.RESERVED_NAME,
          'reserved names',
          `custom section "${INSTRUMENT_SECTION}" is written by the instrumenter; submit the original code`,
        )
      }
    } else {
      if (id === 13) {
        throw refuse(
          Code.UNSUPPORTED_FEATURE,
          'no exception handling',
          'the module has a tag section',
        )
      }
      if (id > 12) throw malformed(`unknown section id ${id}`, start - 1)
      if (rank(id) <= lastRank) throw malformed(`section ${id} out of order`, start - 1)
      lastRank = rank(id)
    }
    sections.push(s)
    r.p = start + size
  }
  const byId = (id: number) => sections.find((s) => s.id === id)

  // ---- types
  const types: FuncType[] = []
  const typeSec = byId(1)
  if (typeSec) {
    const tr = new Reader(input, typeSec.start, typeSec.end)
    const n = tr.u32()
    for (let i = 0; i < n; i++) {
      const form = tr.u8()
      if (form !== 0x60) {
        throw refuse(
          Code.UNSUPPORTED_FEATURE,
          'no GC',
          `type ${i} has form 0x${form.toString(16)}; only function types are accepted`,
        )
      }
      const params: number[] = []
      const results: number[] = []
      const np = tr.u32()
      for (let j = 0; j < np; j++) params.push(tr.u8())
      const nr = tr.u32()
      for (let j = 0; j < nr; j++) results.push(tr.u8())
      for (const v of [...params, ...results]) checkValType(v, `type ${i}`, { typeIndex: i })
      types.push({ params, results })
    }
  }
  const typeAt = (i: number, where: number): FuncType => {
    const t = types[i]
    if (!t) throw malformed(`type index ${i} out of range`, where)
    return t
  }

  // ---- imports
  const funcTypes: number[] = [] // type index of every function (imports first)
  const imports: string[] = []
  let memoryCount = 0
  let importsMemory = false
  let memoryPages = 0
  let importedMemoryMax: number | undefined
  const impSec = byId(2)
  if (impSec) {
    const ir = new Reader(input, impSec.start, impSec.end)
    const n = ir.u32()
    for (let i = 0; i < n; i++) {
      const mod = ir.name()
      const name = ir.name()
      const kind = ir.u8()
      const full = `${mod}.${name}`
      if (mod !== 'env') {
        throw refuse(
          Code.IMPORT_NOT_ALLOWED,
          'imports only from module env',
          `import "${full}" is from module "${mod}"; only "env" may be imported`,
          { import: full },
        )
      }
      if (kind === 0) {
        const ti = ir.u32()
        const hs = HOST_IMPORTS[name]
        if (!hs || !Object.hasOwn(HOST_IMPORTS, name)) {
          throw refuse(
            Code.IMPORT_NOT_ALLOWED,
            'imports only the ABI host functions',
            `import "${full}" is not a host function of the contract ABI`,
            { import: full },
          )
        }
        const t = typeAt(ti, ir.p)
        if (
          t.params.length !== hs.params.length ||
          t.results.length !== hs.results.length ||
          t.params.some((v, k) => v !== hs.params[k]) ||
          t.results.some((v, k) => v !== hs.results[k])
        ) {
          throw refuse(
            Code.IMPORT_SIGNATURE,
            'host imports with their exact signatures',
            `import "${full}" is declared ${signatureToString(t)}; the ABI signature is ${signatureToString(hs)}`,
            { import: full, functionIndex: funcTypes.length },
          )
        }
        funcTypes.push(ti)
        imports.push(name)
      } else if (kind === 2) {
        if (name !== 'memory') {
          throw refuse(
            Code.IMPORT_NOT_ALLOWED,
            'memory imported only as env.memory',
            `memory import "${full}" must be named env.memory`,
            { import: full },
          )
        }
        const lim = readLimits(ir, 'imported memory')
        memoryCount++
        importsMemory = true
        memoryPages = lim.min
        importedMemoryMax = lim.max
      } else {
        throw refuse(
          Code.IMPORT_NOT_ALLOWED,
          'imports only host functions and env.memory',
          `import "${full}" is a ${['function', 'table', 'memory', 'global', 'tag'][kind] ?? `kind ${kind}`}; only functions and env.memory may be imported`,
          { import: full },
        )
      }
    }
  }
  const importedFuncs = funcTypes.length

  // ---- functions
  const funcSec = byId(3)
  if (funcSec) {
    const fr = new Reader(input, funcSec.start, funcSec.end)
    const n = fr.u32()
    for (let i = 0; i < n; i++) {
      const ti = fr.u32()
      typeAt(ti, fr.p)
      funcTypes.push(ti)
    }
  }
  if (funcTypes.length > MAX_FUNCTIONS) {
    throw refuse(
      Code.TOO_MANY_FUNCTIONS,
      'at most 10,000 functions',
      `the module has ${funcTypes.length} functions; at most ${MAX_FUNCTIONS}`,
      { count: funcTypes.length, limit: MAX_FUNCTIONS },
    )
  }

  // ---- table
  const tableSec = byId(4)
  if (tableSec) {
    const tr = new Reader(input, tableSec.start, tableSec.end)
    const n = tr.u32()
    if (n > 1) {
      throw refuse(
        Code.UNSUPPORTED_FEATURE,
        'features: one table (no reference types)',
        `the module defines ${n} tables; at most one`,
      )
    }
    for (let i = 0; i < n; i++) {
      const et = tr.u8()
      if (et !== 0x70) {
        throw refuse(
          Code.UNSUPPORTED_FEATURE,
          'features: funcref tables only',
          `table ${i} has element type 0x${et.toString(16)}`,
        )
      }
      const lim = readLimits(tr, 'table')
      if (lim.min > MAX_TABLE_ENTRIES || (lim.max !== undefined && lim.max > MAX_TABLE_ENTRIES)) {
        throw refuse(
          Code.TOO_MANY_TABLE_ENTRIES,
          'at most 10,000 table entries',
          `table ${i} has limits ${lim.min}..${lim.max ?? 'unbounded'}; at most ${MAX_TABLE_ENTRIES} entries`,
          { limit: MAX_TABLE_ENTRIES },
        )
      }
    }
  }

  // ---- memory
  const memSec = byId(5)
  let memPayload: Uint8Array | undefined
  if (memSec) {
    const mr = new Reader(input, memSec.start, memSec.end)
    const n = mr.u32()
    memoryCount += n
    if (memoryCount > 1) {
      throw refuse(
        Code.UNSUPPORTED_FEATURE,
        'at most one memory (no multi-memory)',
        `the module has ${memoryCount} memories; at most one`,
      )
    }
    if (n === 1) {
      const lim = readLimits(mr, 'memory')
      memoryPages = lim.min
      const w = new Writer(16)
      w.u32(1)
      w.byte(0x01)
      w.u32(lim.min)
      w.u32(Math.min(lim.max ?? MAX_MEMORY_PAGES, MAX_MEMORY_PAGES))
      memPayload = w.finish()
    }
  }
  if (memoryCount === 0) {
    throw refuse(
      Code.NO_MEMORY,
      'exports memory',
      'the module has no memory; export one as "memory" or import env.memory',
    )
  }
  if (importsMemory && importedMemoryMax !== undefined && importedMemoryMax < memoryPages) {
    throw malformed('memory import maximum below its minimum', impSec!.start)
  }

  // ---- globals
  let globalCount = 0
  const globSec = byId(6)
  if (globSec) {
    const gr = new Reader(input, globSec.start, globSec.end)
    globalCount = gr.u32()
    if (globalCount > MAX_GLOBALS) {
      throw refuse(
        Code.TOO_MANY_GLOBALS,
        'at most 1,000 globals',
        `the module has ${globalCount} globals; at most ${MAX_GLOBALS}`,
        { count: globalCount, limit: MAX_GLOBALS },
      )
    }
    for (let i = 0; i < globalCount; i++) {
      checkValType(gr.u8(), `global ${i}`, { globalIndex: i })
      gr.u8() // mutability
      skipConstExpr(gr)
    }
  }

  // ---- exports
  const callable: string[] = []
  let exportsMemory = false
  const expSec = byId(7)
  let exportCount = 0
  // function exports: [start of the entry's index, function index, end of the entry]
  const funcExports: number[] = []
  if (expSec) {
    const er = new Reader(input, expSec.start, expSec.end)
    exportCount = er.u32()
    for (let i = 0; i < exportCount; i++) {
      const name = er.name()
      const kind = er.u8()
      const idxStart = er.p
      const idx = er.u32()
      if (kind === 0) funcExports.push(idxStart, idx, er.p)
      if (name.startsWith('__aureon')) {
        throw refuse(
          Code.RESERVED_NAME,
          'reserved names',
          `export "${name}": names starting with "__aureon" are reserved for the instrumenter`,
        )
      }
      if (kind === 0) {
        const ti = funcTypes[idx]
        if (ti === undefined) throw malformed(`export "${name}" names function ${idx}`, er.p)
        const t = types[ti]
        if (t.params.length === 0 && t.results.length === 0) callable.push(name)
      } else if (kind === 2 && name === 'memory') {
        exportsMemory = true
      }
    }
  }
  if (!exportsMemory && !importsMemory) {
    throw refuse(
      Code.NO_MEMORY,
      'exports memory',
      'the module does not export its memory as "memory"',
    )
  }

  // ---- start
  if (byId(8)) {
    throw refuse(
      Code.START_FUNCTION,
      'no start function',
      'the module declares a start function; export "init" instead (it runs once at deploy). AssemblyScript: compile with --exportStart _initialize',
    )
  }

  // ---- code
  const gasGlobal = globalCount
  const stackGlobal = globalCount + 1
  const extraTypes: FuncType[] = []
  const blockTypeFor = (results: number[]): number => {
    // a block type `[] -> results` for a multi-value wrapper block
    for (let i = 0; i < types.length; i++) {
      const t = types[i]
      if (t.params.length === 0 && sameTypes(t.results, results)) return i
    }
    for (let i = 0; i < extraTypes.length; i++) {
      const t = extraTypes[i]
      if (t.params.length === 0 && sameTypes(t.results, results)) return types.length + i
    }
    extraTypes.push({ params: [], results })
    return types.length + extraTypes.length - 1
  }

  // every defined function takes one more (last) parameter: the stack units left to its frame
  const extTypeOf: number[] = []
  const extendedType = (ti: number): number => {
    const known = extTypeOf[ti]
    if (known !== undefined) return known
    const t = types[ti]
    extraTypes.push({ params: [...t.params, I32], results: t.results })
    const x = types.length + extraTypes.length - 1
    extTypeOf[ti] = x
    return x
  }
  for (let f = importedFuncs; f < funcTypes.length; f++) extendedType(funcTypes[f])
  const codeSec = byId(10)
  const definedFuncs = funcTypes.length - importedFuncs

  // thunks, appended after the defined functions: exported functions keep their own type (and
  // start with the whole stack limit); host functions in the table get the extended type
  const totalFuncs = funcTypes.length
  const thunkTarget: number[] = []
  const thunkType: number[] = []
  const exportThunk: number[] = new Array(totalFuncs).fill(-1) // thunk of an exported function
  for (let i = 0; i < funcExports.length; i += 3) {
    const f = funcExports[i + 1]
    if (f < importedFuncs || exportThunk[f] >= 0) continue
    exportThunk[f] = totalFuncs + thunkTarget.length
    thunkTarget.push(f)
    thunkType.push(funcTypes[f])
  }
  const importThunk = new Map<number, number>()
  const tableRef = (f: number, at: number): number => {
    if (f >= totalFuncs) throw malformed(`element names function ${f}`, at)
    if (f >= importedFuncs) return f
    let t = importThunk.get(f)
    if (t === undefined) {
      t = totalFuncs + thunkTarget.length
      importThunk.set(f, t)
      thunkTarget.push(f)
      thunkType.push(extendedType(funcTypes[f]))
    }
    return t
  }
  const elemSec = byId(9)
  const elemOut = elemSec ? rewriteElements(input, elemSec.start, elemSec.end, tableRef) : undefined

  let codeOut: Uint8Array | undefined
  if (codeSec) {
    const cr = new Reader(input, codeSec.start, codeSec.end)
    const n = cr.u32()
    if (n !== definedFuncs) {
      throw malformed(`code section has ${n} bodies for ${definedFuncs} functions`, codeSec.start)
    }
    const out = new Writer(Math.ceil((codeSec.end - codeSec.start) * 1.6) + 64)
    out.u32(n + thunkTarget.length)
    const body = new Writer(4096)
    const ctx: BodyContext = {
      input,
      types,
      funcTypes,
      schedule,
      stackLimit,
      gasGlobal,
      stackGlobal,
      blockTypeFor,
      extendedType,
      importedFuncs,
    }
    for (let i = 0; i < n; i++) {
      const size = cr.u32()
      const start = cr.p
      const end = start + size
      if (end > cr.end) throw malformed('function body runs past the code section', start)
      body.len = 0
      instrumentBody(ctx, importedFuncs + i, start, end, body)
      out.u32(body.len)
      out.copy(body.buf, 0, body.len)
      cr.p = end
    }
    writeThunks(out)
    codeOut = out.finish()
  } else if (definedFuncs > 0) {
    throw malformed('function section without code section', 8)
  } else if (thunkTarget.length > 0) {
    const out = new Writer(64)
    out.u32(thunkTarget.length)
    writeThunks(out)
    codeOut = out.finish()
  }
  function writeThunks(out: Writer): void {
    const thunkWriter = new Writer(64)
    for (let k = 0; k < thunkTarget.length; k++) {
      const f = thunkTarget[k]
      const np = types[funcTypes[f]].params.length
      const tw = thunkWriter
      tw.len = 0
      tw.u32(0) // no locals
      for (let p = 0; p < np; p++) {
        tw.byte(0x20)
        tw.u32(p)
      }
      if (f >= importedFuncs) {
        tw.byte(0x41) // i32.const limit: the whole stack for an entry from the host
        tw.s64(stackLimit)
      }
      tw.byte(0x10)
      tw.u32(f)
      tw.byte(0x0b)
      out.u32(tw.len)
      out.copy(tw.buf, 0, tw.len)
    }
  }
  let funcOut: Uint8Array | undefined
  if (definedFuncs + thunkTarget.length > 0) {
    const fw = new Writer(16 + 3 * (definedFuncs + thunkTarget.length))
    fw.u32(definedFuncs + thunkTarget.length)
    for (let f = importedFuncs; f < totalFuncs; f++) fw.u32(extendedType(funcTypes[f]))
    for (const t of thunkType) fw.u32(t)
    funcOut = fw.finish()
  }

  if (!opts.skipEngineValidation && !Wasm.validate(input)) {
    throw malformed('Wasm.validate refused the module', 8)
  }

  // ---- assemble the output
  const out = new Writer(input.length * 2 + 256)
  out.bytes(input.subarray(0, 8))
  const gw = new Writer(64)
  let pendingGlobals = true
  let pendingExports = true
  let pendingFuncs = funcOut !== undefined
  let pendingCode = codeOut !== undefined
  const emitGlobals = (existing?: Section) => {
    gw.len = 0
    gw.u32(globalCount + 2)
    if (existing) {
      const gr = new Reader(input, existing.start, existing.end)
      gr.u32()
      gw.bytes(input.subarray(gr.p, existing.end))
    }
    gw.byte(I64)
    gw.byte(1)
    gw.byte(0x42)
    gw.byte(0)
    gw.byte(0x0b)
    gw.byte(I32)
    gw.byte(1)
    gw.byte(0x41)
    gw.byte(0)
    gw.byte(0x0b)
    out.section(6, gw.finish())
    pendingGlobals = false
  }
  const emitExports = (existing?: Section) => {
    gw.len = 0
    gw.u32(exportCount + 2)
    if (existing) {
      const er = new Reader(input, existing.start, existing.end)
      er.u32()
      // function exports name their thunks
      let from = er.p
      for (let i = 0; i < funcExports.length; i += 3) {
        const thunk = exportThunk[funcExports[i + 1]]
        if (thunk < 0) continue
        gw.copy(input, from, funcExports[i])
        gw.u32(thunk)
        from = funcExports[i + 2]
      }
      gw.bytes(input.subarray(from, existing.end))
    }
    gw.name(GAS_GLOBAL_EXPORT)
    gw.byte(3)
    gw.u32(gasGlobal)
    gw.name(STACK_GLOBAL_EXPORT)
    gw.byte(3)
    gw.u32(stackGlobal)
    out.section(7, gw.finish())
    pendingExports = false
  }
  for (const s of sections) {
    if (s.id !== 0) {
      if (pendingFuncs && rank(s.id) > 3) {
        out.section(3, funcOut!)
        pendingFuncs = false
      }
      if (pendingGlobals && rank(s.id) > 6) emitGlobals()
      if (pendingExports && rank(s.id) > 7) emitExports()
      if (pendingCode && rank(s.id) > 10) {
        out.section(10, codeOut!)
        pendingCode = false
      }
    }
    switch (s.id) {
      case 1: {
        if (extraTypes.length === 0) {
          out.section(1, input.subarray(s.start, s.end))
          break
        }
        const tw = new Writer(s.end - s.start + 64)
        const tr = new Reader(input, s.start, s.end)
        tw.u32(tr.u32() + extraTypes.length)
        tw.bytes(input.subarray(tr.p, s.end))
        for (const t of extraTypes) {
          tw.byte(0x60)
          tw.u32(t.params.length)
          for (const v of t.params) tw.byte(v)
          tw.u32(t.results.length)
          for (const v of t.results) tw.byte(v)
        }
        out.section(1, tw.finish())
        break
      }
      case 3:
        if (pendingFuncs) out.section(3, funcOut!)
        pendingFuncs = false
        break
      case 5:
        out.section(5, memPayload!)
        break
      case 9:
        out.section(9, elemOut!)
        break
      case 6:
        emitGlobals(s)
        break
      case 7:
        emitExports(s)
        break
      case 10:
        out.section(10, codeOut!)
        pendingCode = false
        break
      default:
        out.section(s.id, input.subarray(s.start, s.end))
    }
  }
  if (pendingFuncs) out.section(3, funcOut!)
  if (pendingGlobals) emitGlobals()
  if (pendingExports) emitExports()
  if (pendingCode) out.section(10, codeOut!)
  const originalHash = new Uint8Array(createHash('sha256').update(input).digest())
  const cw = new Writer(64)
  cw.name(INSTRUMENT_SECTION)
  cw.u32(INSTRUMENT_VERSION)
  cw.bytes(originalHash)
  out.section(0, cw.finish())
  const code = out.finish()
  return {
    code,
    info: {
      originalHash,
      originalSize: input.length,
      instrumentedSize: code.length,
      functionCount: definedFuncs,
      callable,
      imports,
      importsMemory,
      memoryPages,
      version: INSTRUMENT_VERSION,
    },
  }
}

/**
 * Reads the instrumentation version and original code hash from an instrumented module, or
 * undefined when the bytes were not produced by `instrumentContract`.
 *
 * @example
 * const meta = readInstrumentation(code) // { version: 1, originalHash }
 */
export function readInstrumentation(
  code: Uint8Array,
): { version: number; originalHash: Uint8Array } | undefined {
  try {
    const r = new Reader(code, 8)
    let found: { version: number; originalHash: Uint8Array } | undefined
    while (r.p < r.end) {
      const id = r.u8()
      const size = r.u32()
      const end = r.p + size
      if (id === 0) {
        const sr = new Reader(code, r.p, end)
        if (sr.name() === INSTRUMENT_SECTION) {
          found = { version: sr.u32(), originalHash: sr.bytes(32).slice() }
        }
      }
      r.p = end
    }
    return found
  } catch {
    return undefined
  }
}

/**
 * Rewrites the element section: every function index goes through `map` (all 8 segment forms of
 * bulk-memory; expressions are `ref.func` or `ref.null`).
 */
function rewriteElements(
  input: Uint8Array,
  start: number,
  end: number,
  map: (f: number, at: number) => number,
): Uint8Array {
  const r = new Reader(input, start, end)
  const w = new Writer(end - start + 64)
  const n = r.u32()
  w.u32(n)
  for (let i = 0; i < n; i++) {
    const flags = r.u32()
    if (flags > 7) throw malformed(`element segment flags ${flags}`, r.p)
    w.u32(flags)
    const from = r.p
    if ((flags & 1) === 0) {
      if (flags & 2) r.u32() // table index
      skipConstExpr(r)
    }
    if (flags & 3) r.u8() // elemkind or reftype
    w.bytes(input.subarray(from, r.p))
    const count = r.u32()
    w.u32(count)
    for (let k = 0; k < count; k++) {
      if ((flags & 4) === 0) {
        const at = r.p
        w.u32(map(r.u32(), at))
        continue
      }
      for (;;) {
        const at = r.p
        const op = r.u8()
        w.byte(op)
        if (op === 0x0b) break
        if (op === 0xd2) w.u32(map(r.u32(), at))
        else if (op === 0xd0) w.byte(r.u8())
        else if (op === 0x23) w.u32(r.u32())
        else throw malformed(`opcode 0x${op.toString(16)} in an element expression`, at)
      }
    }
  }
  if (r.p !== end) throw malformed('element section has trailing bytes', r.p)
  return w.finish()
}

function sameTypes(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

function readLimits(r: Reader, what: string): { min: number; max?: number } {
  const flags = r.u8()
  if (flags & 0x02) {
    throw refuse(Code.UNSUPPORTED_FEATURE, 'no threads', `${what} is shared (threads)`)
  }
  if (flags & 0x04) {
    throw refuse(Code.UNSUPPORTED_FEATURE, 'no memory64', `${what} uses 64-bit limits (memory64)`)
  }
  if (flags > 1) throw malformed(`${what} limits flags 0x${flags.toString(16)}`, r.p - 1)
  const min = r.u32()
  const max = flags & 1 ? r.u32() : undefined
  if (what.includes('memory') && min > MAX_MEMORY_PAGES) {
    throw refuse(
      Code.MEMORY_LIMIT,
      'memory at most 256 pages (16 MiB)',
      `${what} starts at ${min} pages; at most ${MAX_MEMORY_PAGES}`,
      { pages: min, limit: MAX_MEMORY_PAGES },
    )
  }
  return max === undefined ? { min } : { min, max }
}

function skipConstExpr(r: Reader): void {
  for (;;) {
    const op = r.u8()
    if (op === 0x0b) return
    if (op === 0x41) r.skipLeb(5)
    else if (op === 0x42) r.skipLeb(10)
    else if (op === 0x23 || op === 0xd2) r.u32()
    else if (op === 0xd0) r.u8()
    else if (op === 0x43 || op === 0x44) {
      throw refuse(Code.FLOAT, 'no floats', `a constant expression uses ${opcodeName(op)}`, {
        opcode: opcodeName(op),
      })
    } else if (
      op === 0x6a ||
      op === 0x6b ||
      op === 0x6c ||
      op === 0x7c ||
      op === 0x7d ||
      op === 0x7e
    ) {
      // extended-const arithmetic
    } else throw malformed(`opcode 0x${op.toString(16)} in a constant expression`, r.p - 1)
  }
}

function bodyErr(
  funcIndex: number,
  code: RuntimeErrorCode,
  rule: string,
  msg: string,
  op: string,
  at: number,
): RuntimeError {
  return refuse(code, rule, `function ${funcIndex} uses ${op} at byte ${at}: ${msg}`, {
    functionIndex: funcIndex,
    opcode: op,
    offset: at,
  })
}

function multiMemory(funcIndex: number, op: string, at: number): RuntimeError {
  return bodyErr(
    funcIndex,
    Code.UNSUPPORTED_FEATURE,
    'one memory (no multi-memory)',
    'memory index',
    op,
    at,
  )
}

interface BodyContext {
  input: Uint8Array
  types: FuncType[]
  funcTypes: number[]
  schedule: GasSchedule
  stackLimit: number
  gasGlobal: number
  stackGlobal: number
  blockTypeFor: (results: number[]) => number
  extendedType: (typeIndex: number) => number
  importedFuncs: number
}

enum Frame {
  Block = 0,
  Loop = 1,
  If = 2,
  Func = 3,
}

const GAS_PAD = 6 // i64.const immediate bytes for a block cost (up to 2^41)
/** A leaf function (no calls) with a frame at most this big skips the stack counter. */
const LEAF_FRAME_MAX = 1024
const ENTRY = -2 // charge target: the prologue
const NONE = -1 // no charge emitted yet for the current block

const bodyWriter = new Writer(1 << 16)
// control stacks of instrumentBody, reused from function to function
const S_KINDS: number[] = []
const S_BASES: number[] = []
const S_NRES: number[] = []
const S_NPAR: number[] = []
const S_DEAD: boolean[] = []
const S_HTARGET: number[] = []
const S_HBASE: number[] = []
const S_HMAX: number[] = []
/** readBlockType packs (params, results) as params * BT_SPLIT + results. */
const BT_SPLIT = 0x200000

/**
 * Instruments one function body: writes its new locals and instructions to `w`.
 *
 * Layout: prologue (charge the entry block; for functions that call, subtract the frame cost from
 * the stack-units parameter; check both with one sign test), `block <results>` wrapping the
 * original body (a `return` becomes a `br` to this block), `end`. The stack-units parameter is
 * the last one (locals move up by one); calls to defined functions pass it on.
 *
 * Gas: each basic block is charged before its first costed instruction; loop headers check the
 * counter (as does the entry of every function that calls), so every unbounded repetition runs
 * into a check. The first block of each branch of an `if` is charged before the `if`, as the
 * larger of the two (a deterministic, slightly conservative rule that saves a charge per branch).
 * `block`, `loop`, `else` and `end` cost nothing.
 */
function instrumentBody(
  ctx: BodyContext,
  funcIndex: number,
  start: number,
  end: number,
  w: Writer,
): void {
  bodyCtx = ctx
  bodyFunc = funcIndex
  b = ctx.input
  r = new Reader(b, start, end)
  const type = ctx.types[ctx.funcTypes[funcIndex]]
  const ins = ctx.schedule.instructions

  // locals
  const nGroups = r.u32()
  let nLocals = 0
  w.u32(nGroups + 2)
  for (let g = 0; g < nGroups; g++) {
    const count = r.u32()
    const vt = r.u8()
    if (vt !== I32 && vt !== I64) {
      checkValType(vt, `function ${funcIndex} local`, { functionIndex: funcIndex })
    }
    nLocals += count
    if (nLocals > MAX_LOCALS) {
      throw refuse(
        Code.TOO_MANY_LOCALS,
        'at most 10,000 locals per function',
        `function ${funcIndex} declares ${nLocals}+ locals; at most ${MAX_LOCALS}`,
        { functionIndex: funcIndex, limit: MAX_LOCALS },
      )
    }
    w.u32(count)
    w.byte(vt)
  }
  const nParams = type.params.length
  sIdx = nParams // the added parameter: stack units left (locals move up by one)
  t64 = nParams + 1 + nLocals
  t32 = t64 + 1
  const imported = ctx.importedFuncs
  w.u32(1)
  w.byte(I64)
  w.u32(1)
  w.byte(I32)

  G = ctx.gasGlobal
  S = ctx.stackGlobal
  bw = bodyWriter
  bw.len = 0

  entryCost = 0

  // wrapper block
  bw.byte(0x02)
  if (type.results.length === 0) bw.byte(0x40)
  else if (type.results.length === 1) bw.byte(type.results[0])
  else bw.s64(ctx.blockTypeFor(type.results))

  // control stack
  if (kinds.length !== 0) kinds.length = 0 // (after a refusal; a body ends with them empty)
  if (bases.length !== 0) bases.length = 0
  if (nres.length !== 0) nres.length = 0
  if (npar.length !== 0) npar.length = 0
  if (dead.length !== 0) dead.length = 0
  kinds.push(Frame.Func)
  bases.push(0)
  nres.push(type.results.length)
  npar.push(0)
  dead.push(false)
  // if-hoisting per frame: charge target of the block before the `if`, its cost, branch max
  if (hTarget.length !== 0) hTarget.length = 0
  if (hBase.length !== 0) hBase.length = 0
  if (hMax.length !== 0) hMax.length = 0
  hTarget.push(NONE)
  hBase.push(0)
  hMax.push(0)
  height = 0
  maxHeight = 0
  copyFrom = r.p
  hasCall = false

  // the current basic block
  chargeAt = ENTRY // where its charge is (ENTRY, NONE or a placeholder in bw)
  cost = 0
  checked = true
  hoistedInto = -1 // index of the if-frame this block is hoisted into, or -1

  for (;;) {
    if (r.p >= end) throw malformed(`function ${funcIndex} ends without "end"`, r.p)
    const at = r.p
    const op = b[r.p++]
    const pk = plainKind[op]
    if (pk !== 0) {
      charge(ins[plainClass(op)], at)
      if (pk === PLAIN_BINARY) pop(1)
      else if (pk === PLAIN_UNARY) {
        pop(1)
        push(1)
      }
      continue
    }
    switch (op) {
      case 0x00: // unreachable
        charge(ins.simple, at)
        setDead()
        endBlock()
        break
      case 0x01: // nop
        charge(ins.simple, at)
        break
      case 0x02: // block
      case 0x03: // loop
      case 0x04: {
        // if
        if (op === 0x04) {
          charge(ins.branch, at)
          pop(1)
        }
        const bt = readBlockType()
        const p = Math.floor(bt / BT_SPLIT)
        const res = bt % BT_SPLIT
        pop(p)
        kinds.push(op === 0x02 ? Frame.Block : op === 0x03 ? Frame.Loop : Frame.If)
        bases.push(height)
        nres.push(res)
        npar.push(p)
        dead.push(false)
        hTarget.push(NONE)
        hBase.push(0)
        hMax.push(0)
        push(p)
        if (op === 0x03) {
          flushRaw(r.p)
          endBlock()
          checked = true
        } else if (op === 0x04) {
          flushRaw(r.p)
          if (hoistedInto < 0 && chargeAt !== NONE) {
            // hoist the first block of each branch into the charge before the `if`
            const f = kinds.length - 1
            hTarget[f] = chargeAt
            hBase[f] = cost
            hMax[f] = 0
            chargeAt = NONE
            cost = 0
            checked = false
            hoistedInto = f
          } else {
            endBlock()
          }
        }
        break
      }
      case 0x05: {
        // else
        const f = kinds.length - 1
        if (kinds[f] !== Frame.If) throw malformed('else without if', at)
        height = bases[f] + npar[f]
        if (height > maxHeight) maxHeight = height
        dead[f] = false
        flushRaw(r.p)
        endBlock()
        if (hTarget[f] !== NONE) hoistedInto = f
        break
      }
      case 0x0b: {
        // end
        const f = kinds.length - 1
        flushRaw(r.p)
        endBlock()
        if (hTarget[f] !== NONE) patch(hTarget[f], hBase[f] + hMax[f])
        const base = bases.pop()!
        const res = nres.pop()!
        kinds.pop()
        npar.pop()
        dead.pop()
        hTarget.pop()
        hBase.pop()
        hMax.pop()
        height = base
        push(res)
        if (kinds.length === 0) {
          if (r.p !== end) throw malformed(`function ${funcIndex} has bytes after its end`, r.p)
          const frame = STACK_FRAME_OVERHEAD + type.params.length + nLocals + maxHeight
          const counted = hasCall || frame > LEAF_FRAME_MAX
          // prologue
          w.byte(0x23) // global.get G
          w.u32(G)
          w.byte(0x42) // i64.const entryCost
          w.s64(entryCost)
          w.byte(0x7d) // i64.sub
          if (counted) {
            // gas left | (stack left - frame), one sign test for both
            w.byte(0x22) // local.tee t64
            w.u32(t64)
            w.byte(0x24) // global.set G
            w.u32(G)
            w.byte(0x20) // local.get t64
            w.u32(t64)
            w.byte(0x20) // local.get s
            w.u32(sIdx)
            w.byte(0x41) // i32.const frame
            w.s64(frame)
            w.byte(0x6b) // i32.sub
            w.byte(0x22) // local.tee s
            w.u32(sIdx)
            w.byte(0xac) // i64.extend_i32_s
            w.byte(0x84) // i64.or
            w.byte(0x42) // i64.const 0
            w.byte(0)
            w.byte(0x53) // i64.lt_s
            w.byte(0x04) // if
            w.byte(0x40)
            w.byte(0x41) // i32.const limit + 1 (the runtime reads S after the trap; gas wins)
            w.s64(ctx.stackLimit + 1)
            w.byte(0x24) // global.set S
            w.u32(S)
            w.byte(0x00) // unreachable
            w.byte(0x0b) // end
          } else {
            w.byte(0x24) // global.set G (bounded work: loops check on their own)
            w.u32(G)
          }
          w.copy(bw.buf, 0, bw.len)
          w.byte(0x0b)
          return
        }
        break
      }
      case 0x0c: {
        // br
        const depth = r.u32()
        if (depth >= kinds.length) throw malformed(`br depth ${depth}`, at)
        charge(ins.simple, at)
        setDead()
        flushRaw(r.p)
        endBlock()
        break
      }
      case 0x0d: {
        // br_if
        const depth = r.u32()
        if (depth >= kinds.length) throw malformed(`br_if depth ${depth}`, at)
        charge(ins.brIf, at)
        pop(1)
        flushRaw(r.p)
        endBlock()
        break
      }
      case 0x0e: {
        // br_table
        const n = r.u32()
        for (let i = 0; i <= n; i++) {
          if (r.u32() >= kinds.length) throw malformed('br_table depth', at)
        }
        charge(ins.brTable, at)
        pop(1)
        setDead()
        flushRaw(r.p)
        endBlock()
        break
      }
      case 0x0f: {
        // return -> br to the wrapper block
        charge(ins.simple, at)
        flushRaw(at)
        bw.byte(0x0c)
        bw.u32(kinds.length - 1)
        copyFrom = r.p
        setDead()
        endBlock()
        break
      }
      case 0x10: {
        // call
        const f = r.u32()
        const ti = ctx.funcTypes[f]
        if (ti === undefined) throw malformed(`call of function ${f}`, at)
        const t = ctx.types[ti]
        charge(ins.call, at)
        if (f >= imported) {
          // pass the stack units left
          flushRaw(at)
          bw.byte(0x20)
          bw.u32(sIdx)
        }
        hasCall = true
        pop(t.params.length)
        push(t.results.length)
        break
      }
      case 0x11: {
        // call_indirect
        const ti = r.u32()
        const table = r.u32()
        if (table !== 0) {
          throw bodyErr(
            funcIndex,
            Code.UNSUPPORTED_FEATURE,
            'one table',
            'only table 0 exists',
            opcodeName(op),
            at,
          )
        }
        const t = ctx.types[ti]
        if (!t) throw malformed(`call_indirect type ${ti}`, at)
        charge(ins.callIndirect, at)
        // every table entry has the extended type: pass the stack units under the table index
        flushRaw(at)
        bw.byte(0x21) // local.set t32
        bw.u32(t32)
        bw.byte(0x20) // local.get s
        bw.u32(sIdx)
        bw.byte(0x20) // local.get t32
        bw.u32(t32)
        bw.byte(0x11)
        bw.u32(ctx.extendedType(ti))
        bw.byte(0)
        copyFrom = r.p
        hasCall = true
        pop(1 + t.params.length)
        push(t.results.length)
        break
      }
      case 0x1a: // drop
        charge(ins.simple, at)
        pop(1)
        break
      case 0x1b: // select
        charge(ins.branch, at)
        pop(2)
        break
      case 0x20: {
        // local.get
        const li = r.u32()
        charge(ins.simple, at)
        if (li >= nParams) renumberLocal(op, li, at)
        push(1)
        break
      }
      case 0x21: {
        // local.set
        const li = r.u32()
        charge(ins.simple, at)
        if (li >= nParams) renumberLocal(op, li, at)
        pop(1)
        break
      }
      case 0x22: {
        // local.tee
        const li = r.u32()
        charge(ins.simple, at)
        if (li >= nParams) renumberLocal(op, li, at)
        break
      }
      case 0x23: // global.get
        r.u32()
        charge(ins.global, at)
        push(1)
        break
      case 0x24: // global.set
        r.u32()
        charge(ins.global, at)
        pop(1)
        break
      case 0x28:
      case 0x29:
      case 0x2c:
      case 0x2d:
      case 0x2e:
      case 0x2f:
      case 0x30:
      case 0x31:
      case 0x32:
      case 0x33:
      case 0x34:
      case 0x35: {
        // loads
        if (r.u32() >= 64) throw multiMemory(funcIndex, opcodeName(op), at)
        r.u32()
        charge(ins.load, at)
        pop(1)
        push(1)
        break
      }
      case 0x36:
      case 0x37:
      case 0x3a:
      case 0x3b:
      case 0x3c:
      case 0x3d:
      case 0x3e: {
        // stores
        if (r.u32() >= 64) throw multiMemory(funcIndex, opcodeName(op), at)
        r.u32()
        charge(ins.store, at)
        pop(2)
        break
      }
      case 0x3f: // memory.size
        if (r.u8() !== 0) throw multiMemory(funcIndex, opcodeName(op), at)
        charge(ins.memorySize, at)
        push(1)
        break
      case 0x40: {
        // memory.grow: charged per page before it runs
        if (r.u8() !== 0) throw multiMemory(funcIndex, opcodeName(op), at)
        charge(ins.simple, at)
        flushRaw(at)
        dynamicCharge(ins.memoryGrow, ins.memoryGrowPerPage, 0)
        pop(1)
        push(2)
        pop(1)
        break
      }
      case 0x41: // i32.const
        r.skipLeb(5)
        charge(ins.simple, at)
        push(1)
        break
      case 0x42: // i64.const
        r.skipLeb(10)
        charge(ins.simple, at)
        push(1)
        break
      case 0xfc: {
        const sub = r.u32()
        if (sub < 8) {
          throw bodyErr(
            funcIndex,
            Code.FLOAT,
            'no floats',
            'floats are refused (NaN bits differ between machines)',
            opcodeName(op, sub),
            at,
          )
        }
        if (sub === 8 || sub === 10 || sub === 11 || sub === 12 || sub === 14) {
          // memory.init, memory.copy, memory.fill, table.init, table.copy: charged per byte
          if (sub === 8 || sub === 12) {
            r.u32()
            if (r.u32() !== 0 && sub === 8) throw multiMemory(funcIndex, opcodeName(op, sub), at)
          } else if (sub === 10 || sub === 14) {
            const a = r.u32()
            const c = r.u32()
            if (sub === 10 && (a !== 0 || c !== 0))
              throw multiMemory(funcIndex, opcodeName(op, sub), at)
          } else if (r.u8() !== 0) {
            throw multiMemory(funcIndex, opcodeName(op, sub), at)
          }
          charge(ins.simple, at)
          flushRaw(at)
          dynamicCharge(ins.bulk, ins.bulkPer8Bytes, 3)
          push(1)
          pop(4)
        } else if (sub === 9 || sub === 13) {
          r.u32()
          charge(ins.drop, at)
        } else {
          throw bodyErr(
            funcIndex,
            Code.UNSUPPORTED_FEATURE,
            'features: WebAssembly 1.0 + mutable-globals, sign-extension, bulk-memory, multi-value',
            'reference-types table instructions are refused',
            opcodeName(op, sub),
            at,
          )
        }
        break
      }
      default: {
        if (isFloatOpcode(op)) {
          throw bodyErr(
            funcIndex,
            Code.FLOAT,
            'no floats',
            'floats are refused (NaN bits differ between machines)',
            opcodeName(op),
            at,
          )
        }
        if (op === 0xfd) {
          const sub = r.u32()
          throw bodyErr(
            funcIndex,
            Code.UNSUPPORTED_FEATURE,
            'no SIMD',
            'SIMD is refused',
            opcodeName(op, sub),
            at,
          )
        }
        if (op === 0xfe) {
          const sub = r.u32()
          throw bodyErr(
            funcIndex,
            Code.UNSUPPORTED_FEATURE,
            'no threads and atomics',
            'atomics are refused',
            opcodeName(op, sub),
            at,
          )
        }
        const rule =
          (op >= 0x06 && op <= 0x0a) || op === 0x18 || op === 0x19 || op === 0x1f
            ? 'no exception handling'
            : op === 0x12 || op === 0x13
              ? 'no tail calls'
              : op === 0x14 || op === 0x15 || op === 0xfb || (op >= 0xd3 && op <= 0xd6)
                ? 'no GC'
                : 'features: WebAssembly 1.0 + mutable-globals, sign-extension, bulk-memory, multi-value'
        throw bodyErr(
          funcIndex,
          Code.UNSUPPORTED_FEATURE,
          rule,
          'this instruction is refused',
          opcodeName(op),
          at,
        )
      }
    }
  }
}

// state of the body being instrumented (instrumentBody is not re-entrant): module variables, so
// the helpers below are plain functions and no closures are allocated per body
let bodyCtx: BodyContext
let bodyFunc = 0
let b: Uint8Array = new Uint8Array(0)
let r: Reader = new Reader(b)
let G = 0
let S = 0
let bw: Writer = bodyWriter
let t64 = 0
let t32 = 0
let sIdx = 0
let entryCost = 0
let height = 0
let maxHeight = 0
let copyFrom = 0
let hasCall = false
let chargeAt = NONE
let cost = 0
let checked = false
let hoistedInto = -1
const kinds = S_KINDS
const bases = S_BASES
const nres = S_NRES
const npar = S_NPAR
const dead = S_DEAD
const hTarget = S_HTARGET
const hBase = S_HBASE
const hMax = S_HMAX

function patch(target: number, v: number) {
  if (target === ENTRY) entryCost = v
  else bw.patchPadded(target, GAS_PAD, v)
}

function emitCharge(checked: boolean): number {
  bw.byte(0x23) // global.get G
  bw.u32(G)
  bw.byte(0x42) // i64.const cost
  const at = bw.reserve(GAS_PAD)
  bw.byte(0x7d) // i64.sub
  if (!checked) {
    bw.byte(0x24) // global.set G
    bw.u32(G)
    return at
  }
  bw.byte(0x22) // local.tee t64
  bw.u32(t64)
  bw.byte(0x24)
  bw.u32(G)
  bw.byte(0x20) // local.get t64
  bw.u32(t64)
  bw.byte(0x42) // i64.const 0
  bw.byte(0)
  bw.byte(0x53) // i64.lt_s
  bw.byte(0x04) // if
  bw.byte(0x40)
  bw.byte(0x00) // unreachable
  bw.byte(0x0b) // end
  return at
}

// a checked dynamic charge: the i32 count on top of the stack (ceil(n / 2^shift)) times
// `per`, plus `base`; leaves the count on the stack
function dynamicCharge(base: number, per: number, shift: number) {
  bw.byte(0x21) // local.set t32
  bw.u32(t32)
  bw.byte(0x23)
  bw.u32(G)
  bw.byte(0x20) // local.get t32
  bw.u32(t32)
  bw.byte(0xad) // i64.extend_i32_u
  if (shift > 0) {
    bw.byte(0x42)
    bw.s64((1 << shift) - 1)
    bw.byte(0x7c) // i64.add
    bw.byte(0x42)
    bw.s64(shift)
    bw.byte(0x88) // i64.shr_u
  }
  bw.byte(0x42)
  bw.s64(per)
  bw.byte(0x7e) // i64.mul
  bw.byte(0x42)
  bw.s64(base)
  bw.byte(0x7c) // i64.add
  bw.byte(0x7d) // i64.sub
  bw.byte(0x22)
  bw.u32(t64)
  bw.byte(0x24)
  bw.u32(G)
  bw.byte(0x20)
  bw.u32(t64)
  bw.byte(0x42)
  bw.byte(0)
  bw.byte(0x53)
  bw.byte(0x04)
  bw.byte(0x40)
  bw.byte(0x00)
  bw.byte(0x0b)
  bw.byte(0x20) // local.get t32
  bw.u32(t32)
}

function push(n: number) {
  height += n
  if (height > maxHeight) maxHeight = height
}

function pop(n: number) {
  height -= n
  const base = bases[bases.length - 1]
  if (height < base) {
    if (!dead[dead.length - 1]) {
      throw malformed(`operand stack underflow in function ${bodyFunc}`, r.p)
    }
    height = base
  }
}

function setDead() {
  dead[dead.length - 1] = true
  height = bases[bases.length - 1]
}

function readBlockType(): number {
  const first = b[r.p]
  if (first === 0x40) {
    r.p++
    return 0
  }
  if (first === I32 || first === I64) {
    r.p++
    return 1
  }
  if (first >= 0x40 && first < 0x80) {
    const at = r.p
    r.p++
    checkValType(first, `function ${bodyFunc} block type at byte ${at}`, {
      functionIndex: bodyFunc,
      offset: at,
    })
  }
  const idx = r.s33()
  const t = bodyCtx.types[idx]
  if (!t) throw malformed(`block type index ${idx}`, r.p)
  return t.params.length * BT_SPLIT + t.results.length
}

// a local after the parameters moves up by one (the stack parameter sits between)
function renumberLocal(op: number, li: number, at: number) {
  flushRaw(at)
  bw.byte(op)
  bw.u32(li + 1)
  copyFrom = r.p
}

function flushRaw(to: number) {
  if (to > copyFrom) bw.copy(b, copyFrom, to)
  copyFrom = to
}

// adds the cost of the instruction starting at `at`, emitting the block's charge first if needed
function charge(c: number, at: number) {
  if (chargeAt === NONE && hoistedInto < 0) {
    flushRaw(at)
    chargeAt = emitCharge(checked)
  }
  cost += c
}

// the current block ends after the instruction ending at r.p
function endBlock() {
  if (hoistedInto >= 0) {
    if (cost > hMax[hoistedInto]) hMax[hoistedInto] = cost
  } else if (chargeAt !== NONE) patch(chargeAt, cost)
  chargeAt = NONE
  cost = 0
  checked = false
  hoistedInto = -1
}

/** Facts about an (instrumented) module the runtime needs to call it. */
export interface ModuleFacts {
  /** Exports of type `() -> ()`. */
  callable: Set<string>
  /** Initial and maximum pages of an imported `env.memory`, if imported. */
  memoryImport?: { min: number; max?: number }
  /** INSTRUMENT_VERSION recorded in the `aureon.instrument` section (0 when there is none). */
  version: number
  /** Initial pages of the memory (defined or imported). */
  memoryPages: number
}

/**
 * Reads the callable exports and the memory import of a valid module (no validation).
 *
 * @example
 * readModuleFacts(code).callable.has('increment')
 */
export function readModuleFacts(code: Uint8Array): ModuleFacts {
  const r = new Reader(code, 8)
  const types: FuncType[] = []
  const funcTypes: number[] = []
  const callable = new Set<string>()
  let memoryImport: { min: number; max?: number } | undefined
  let version = 0
  let memoryPages = 0
  while (r.p < r.end) {
    const id = r.u8()
    const size = r.u32()
    const end = r.p + size
    const s = new Reader(code, r.p, end)
    if (id === 0) {
      if (s.name() === INSTRUMENT_SECTION) version = s.u32()
    } else if (id === 1) {
      const n = s.u32()
      for (let i = 0; i < n; i++) {
        s.u8()
        const params = [...s.bytes(s.u32())]
        const results = [...s.bytes(s.u32())]
        types.push({ params, results })
      }
    } else if (id === 2) {
      const n = s.u32()
      for (let i = 0; i < n; i++) {
        s.name()
        s.name()
        const kind = s.u8()
        if (kind === 0) funcTypes.push(s.u32())
        else if (kind === 2) {
          const flags = s.u8()
          const min = s.u32()
          memoryImport = flags & 1 ? { min, max: s.u32() } : { min }
        } else throw malformed('unexpected import kind', s.p)
      }
    } else if (id === 3) {
      const n = s.u32()
      for (let i = 0; i < n; i++) funcTypes.push(s.u32())
    } else if (id === 5) {
      if (s.u32() > 0) {
        s.u8()
        memoryPages = s.u32()
      }
    } else if (id === 7) {
      const n = s.u32()
      for (let i = 0; i < n; i++) {
        const name = s.name()
        const kind = s.u8()
        const idx = s.u32()
        if (kind !== 0) continue
        const t = types[funcTypes[idx]]
        if (t && t.params.length === 0 && t.results.length === 0) callable.add(name)
      }
    }
    r.p = end
  }
  if (memoryImport) memoryPages = memoryImport.min
  return memoryImport
    ? { callable, memoryImport, version, memoryPages }
    : { callable, version, memoryPages }
}
