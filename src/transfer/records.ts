import type { RecordFormat } from '../domain/model.js'
import { CSV_SCAN_WASM } from './csv-scan-wasm.js'

/** Counts records while a file streams past, one chunk at a time, without holding the file. */
export interface RecordCounter {
  push(chunk: Buffer): void
  /** Records seen so far, counting a last record that has no line break. */
  total(): number
}

const QUOTE = 0x22
const LF = 0x0a
const CR = 0x0d

// The CSV scanner's state: bit 0, inside a quoted field; bit 1, the current record is still empty.
const IN_QUOTES = 1
const EMPTY = 2

/**
 * One byte of RFC 4180: returns `(records ended << 2) | next state`. A line break outside quotes
 * ends a record unless the record is empty (a blank line); CR is not content outside quotes, so
 * CRLF endings and blank CRLF lines count as they should.
 */
function step(state: number, byte: number): number {
  const quoted = state & IN_QUOTES
  if (byte === QUOTE) return quoted ^ IN_QUOTES
  if (byte === LF) {
    if (quoted) return IN_QUOTES
    return state & EMPTY ? EMPTY : (1 << 2) | EMPTY
  }
  if (byte === CR && !quoted) return state
  return quoted
}

let pairTable: Uint8Array | undefined

/**
 * The scanner applied to two bytes at once, for every state and every byte pair (256 KiB, built
 * once): one table look-up per two bytes runs at about twice the speed of a byte loop.
 */
function pairs(): Uint8Array {
  if (pairTable) return pairTable
  const table = new Uint8Array(4 << 16)
  for (let state = 0; state < 4; state++) {
    for (let pair = 0; pair < 65536; pair++) {
      const first = step(state, pair & 0xff)
      const second = step(first & 3, pair >>> 8)
      table[(state << 16) | pair] = (((first >>> 2) + (second >>> 2)) << 2) | (second & 3)
    }
  }
  pairTable = table
  return table
}

/** Bytes handed to the WebAssembly scanner per call: its memory is 320 KiB. */
const WINDOW = 256 * 1024

interface SimdScanner {
  /** `(records ended << 2) | next state` for bytes [0, length) of `memory`, length % 64 === 0. */
  scan(length: number, state: number): number
  memory: Uint8Array
}

let simd: SimdScanner | null | undefined

/** The little of WebAssembly used here: lib ES2022 and @types/node 20 do not declare it. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: Record<string, unknown> }
}

/**
 * The SIMD scanner (src/transfer/csv-scan.wat), compiled on first use so that runs that count nothing
 * never pay for it; null where the engine has no WebAssembly SIMD.
 */
function simdScanner(): SimdScanner | null {
  if (simd !== undefined) return simd
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly
    if (!wasm) throw new Error('no WebAssembly')
    const module = new wasm.Module(Buffer.from(CSV_SCAN_WASM, 'base64'))
    const exports = new wasm.Instance(module).exports as {
      scan: SimdScanner['scan']
      memory: { buffer: ArrayBuffer }
    }
    simd = { scan: exports.scan, memory: new Uint8Array(exports.memory.buffer) }
  } catch {
    simd = null
  }
  return simd
}

export type CsvEngine = 'simd' | 'table'

/** The engine csvCounter() uses here: SIMD where WebAssembly has it, else the pair table. */
export function csvEngine(): CsvEngine {
  return simdScanner() ? 'simd' : 'table'
}

/**
 * CSV rows after the header (RFC 4180): a line break inside a quoted field does not end a record,
 * and blank lines are not records. Both engines follow `step()`; the SIMD one runs at several
 * GB/s, far faster than the disk (see bench/RESULTS.md).
 */
export function csvCounter(engine: CsvEngine = csvEngine()): RecordCounter {
  const scanner = engine === 'simd' ? simdScanner() : null
  if (engine === 'simd' && !scanner) throw new Error('WebAssembly SIMD is not available here')
  // With SIMD, only a chunk's last few bytes are left for a byte loop: no table to build.
  const table = scanner ? undefined : pairs()
  let state = EMPTY
  let records = 0

  /** Bytes [from, to) of the chunk without SIMD: with the pair table, or a byte at a time. */
  function scalarScan(chunk: Buffer, from: number, to: number): void {
    let s = state
    let n = records
    let i = from
    if (i >= to) return
    if (!table) {
      for (; i < to; i++) {
        const v = step(s, chunk[i] as number)
        n += v >>> 2
        s = v & 3
      }
      state = s
      records = n
      return
    }
    // A Uint16Array view needs an even byte offset: the odd byte goes alone.
    if ((chunk.byteOffset + i) & 1) {
      const v = step(s, chunk[i] as number)
      n += v >>> 2
      s = v & 3
      i++
    }
    const words = (to - i) >>> 1
    const view = new Uint16Array(chunk.buffer, chunk.byteOffset + i, words)
    for (let k = 0; k < words; k++) {
      // Little-endian: the low byte of each word is the earlier byte in the file.
      const v = table[(s << 16) | (view[k] as number)] as number
      n += v >>> 2
      s = v & 3
    }
    i += words * 2
    if (i < to) {
      const v = step(s, chunk[i] as number)
      n += v >>> 2
      s = v & 3
    }
    state = s
    records = n
  }

  return {
    push(chunk) {
      let from = 0
      if (scanner) {
        // Whole 64-byte blocks go through WebAssembly memory; the last few bytes, a byte loop.
        for (let left = chunk.length; left >= 64; left = chunk.length - from) {
          const length = Math.min(WINDOW, left - (left % 64))
          scanner.memory.set(chunk.subarray(from, from + length))
          const v = scanner.scan(length, state)
          records += v >>> 2
          state = v & 3
          from += length
        }
      }
      scalarScan(chunk, from, chunk.length)
    },
    total() {
      const open = state & EMPTY ? 0 : 1
      return Math.max(0, records + open - 1)
    }
  }
}

/** Newline-delimited JSON: one record per non-empty line. */
export function jsonLinesCounter(): RecordCounter {
  let records = 0
  let lineBytes = 0
  let lastWasCR = false
  return {
    push(chunk) {
      let i = 0
      for (;;) {
        const lf = chunk.indexOf(LF, i)
        if (lf === -1) {
          if (chunk.length > i) {
            lineBytes += chunk.length - i
            lastWasCR = chunk[chunk.length - 1] === CR
          }
          return
        }
        if (lf > i) {
          lineBytes += lf - i
          lastWasCR = chunk[lf - 1] === CR
        }
        if (lineBytes - (lastWasCR ? 1 : 0) > 0) records++
        lineBytes = 0
        lastWasCR = false
        i = lf + 1
      }
    },
    total() {
      return records + (lineBytes - (lastWasCR ? 1 : 0) > 0 ? 1 : 0)
    }
  }
}

export function recordCounter(format: RecordFormat): RecordCounter {
  return format === 'csv' ? csvCounter() : jsonLinesCounter()
}

/** The format a file's name says, else the one the API reported for the request. */
export function formatOf(
  fileName: string,
  requestFormat: RecordFormat | undefined
): RecordFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase()
  if (ext === 'csv') return 'csv'
  if (ext === 'json' || ext === 'jsonl' || ext === 'ndjson') return 'json'
  // v4 names JSON downloads `.txt`; trust the request's format for anything else.
  if (ext === 'txt') return requestFormat ?? 'json'
  return requestFormat
}
