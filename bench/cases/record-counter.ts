/**
 * Case 4: the CSV record counter alone, in this process, on chunks sliced from memory, with the
 * engine the action uses and with the fallback for engines without WebAssembly SIMD.
 */
import { performance } from 'node:perf_hooks'
import { awkwardCsv, seeded } from '../../sim/data.js'
import { formatMs, formatSize } from '../figures.js'
import { splitHeader } from '../serve.js'
import type { Case } from '../setup.js'
import { csvCounter, csvEngine, type CsvEngine } from '../src-imports.js'

const KiB = 1024
const MiB = 1024 * KiB

export async function recordCounter(bench: Case): Promise<void> {
  // An 8 MiB block, larger than most caches, sliced at every offset: no chunk is built while timed.
  const generated = awkwardCsv(137_000, 5)
  const { header, block } = splitHeader(generated.body)
  const ring = Buffer.concat([block, block.subarray(0, MiB)])
  const times = Math.max(1, Math.round((bench.sizes.counter - header.length) / block.length))
  const dataBytes = block.length * times
  const total = header.length + dataBytes
  const expected = generated.records * times
  bench.log(`\n(4) csvCounter() over ${formatSize(total)} of CSV with quoted line breaks`)

  const chunksOf = (nextSize: () => number): Buffer[] => {
    const chunks = [header]
    for (let pos = 0; pos < dataBytes;) {
      const size = Math.min(nextSize(), dataBytes - pos)
      const offset = pos % block.length
      chunks.push(ring.subarray(offset, offset + size))
      pos += size
    }
    return chunks
  }
  const count = (chunks: readonly Buffer[], engine: CsvEngine): number => {
    const counter = csvCounter(engine)
    const started = performance.now()
    for (const chunk of chunks) counter.push(chunk)
    const ms = performance.now() - started
    if (counter.total() !== expected) {
      throw new Error(`csvCounter counted ${counter.total()} records, expected ${expected}`)
    }
    return ms
  }
  // Warm up the JIT on a few blocks, untimed.
  for (const engine of ['simd', 'table'] as const) {
    const warm = csvCounter(engine)
    for (let i = 0; i < 4; i++) warm.push(block)
  }

  const simd = csvEngine()
  const variants: [string, () => () => number, CsvEngine][] = [
    [`${simd}, 64 KiB chunks`, () => () => 64 * KiB, simd],
    [`${simd}, 1 MiB chunks`, () => () => MiB, simd],
    [
      `${simd}, mixed 64 KiB–1 MiB chunks`,
      () => {
        const random = seeded(42)
        return () => 64 * KiB + Math.floor(random() * (MiB - 64 * KiB + 1))
      },
      simd
    ],
    ['table (the fallback without WebAssembly SIMD), 64 KiB chunks', () => () => 64 * KiB, 'table']
  ]
  const speeds = new Map<string, number[]>(variants.map(([name]) => [name, []]))
  for (let round = 0; round < bench.runs; round++) {
    await bench.settle()
    for (const [name, sizes, engine] of variants) {
      const chunks = chunksOf(sizes())
      const ms = count(chunks, engine)
      const mbps = total / 1e6 / (ms / 1000)
      speeds.get(name)?.push(mbps)
      bench.log(`  ${name} run ${round + 1}: ${mbps.toFixed(0)} MB/s`)
    }
  }
  const format = (v: number): string => `${v.toFixed(0)} MB/s`
  const medians = new Map<CsvEngine, number>()
  for (const [name, , engine] of variants) {
    const speed = bench.record(`csvCounter, ${name}`, speeds.get(name) ?? [], format)
    if (name.endsWith(', 64 KiB chunks')) medians.set(engine, speed)
    bench.row({
      what: `csvCounter() over ${formatSize(total)} of awkward CSV, ${name}`,
      figure: format(speed),
      target: '≥ 500 MB/s',
      met: speed >= 500
    })
  }
  // What the hand-written WebAssembly counter buys: CPU time the action's socket thread spends
  // counting a GiB, against the table it would fall back to (compare the action's CPU, case 10).
  const perGiB = (engine: CsvEngine): number => (1024 * MiB) / 1e6 / (medians.get(engine) ?? NaN)
  if (simd === 'simd') {
    bench.row({
      what: 'CPU time to count 1 GiB, 64 KiB chunks: WebAssembly SIMD; the table (what SIMD saves)',
      figure: `${formatMs(perGiB('simd') * 1000)}; ${formatMs(perGiB('table') * 1000)}`
    })
  }
}
