/**
 * `npm run bench`: how fast the built action (dist/index.js) is against the local Datafiniti
 * simulator, next to curl and aria2c, with its targets. Prints a markdown table and writes it to
 * bench/RESULTS.md (full runs only). See bench/README.md for what each measurement does.
 *
 *   npm run bench                      full run (several minutes, about 1.5 GiB of free disk)
 *   npm run bench -- --quick           small sizes, one run each, stdout only (CI keeps it working)
 *   npm run bench -- --cap-mibps 50    per-connection bandwidth cap of the file host (default 25)
 *   npm run bench -- --runs 5          runs per figure (default 3; quick: 1)
 *   npm run bench -- --only 1,4        some measurements only (stdout only)
 *   npm run bench -- --only 7,8        the MD5-verified downloads (bench/verified.ts)
 */
import { spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdtempSync,
  rmSync,
  statSync,
  statfsSync,
  writeFileSync
} from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import * as prettier from 'prettier'
import { awkwardCsv, seeded } from '../sim/data.js'
import { DIST, NODE, ROOT } from '../sim/runner.js'
import { repeatBody, startSimulator, type FileBody, type Simulator } from '../sim/simulator.js'
import { Inputs, Outputs } from '../src/domain/names.js'
import { csvCounter, csvEngine, type CsvEngine } from '../src/transfer/records.js'
import { artifactMode, compressionLevels, type Bench } from './artifact.js'
import { alternate } from './contenders.js'
import {
  formatMs,
  formatRatio,
  formatSamples,
  formatSize,
  median,
  mib,
  type Row
} from './figures.js'
import { machine, scratch, which, waitForQuiet } from './machine.js'
import {
  baseEnv,
  expectSuccess,
  runActionTimed,
  timedSpawn,
  type ActionResult,
  type Timed
} from './timed-spawn.js'
import { verifiedFanOut, verifiedLargeFile, type VerifiedContext } from './verified.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
const TOKEN = 'bench_token_0123456789'
const RUN_TIMEOUT_MS = 15 * 60_000

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'cap-mibps': { type: 'string', default: '25' },
    runs: { type: 'string' },
    only: { type: 'string' },
    'quiet-wait': { type: 'string' }
  }
})
const quick = values.quick
const capMiBps = Number(values['cap-mibps'])
const runs = values.runs !== undefined ? Number(values.runs) : quick ? 1 : 3
const only = values.only
  ? new Set(values.only.split(',').map(s => Number(s.trim())))
  : new Set([1, 2, 3, 4, 5, 6, 7, 8, 9])
const quietWaitMs = Number(values['quiet-wait'] ?? (quick ? 0 : 60)) * 1000
if (
  !(capMiBps > 0) ||
  !Number.isInteger(runs) ||
  runs < 1 ||
  !(quietWaitMs >= 0) ||
  [...only].some(n => !(n >= 1))
) {
  throw new Error(
    'usage: bench.ts [--quick] [--cap-mibps N] [--runs N] [--only 1,2,…] [--quiet-wait SECONDS]'
  )
}
const capBytesPerSecond = capMiBps * MiB
const writeResults = !quick && values.only === undefined

const SIZES = quick
  ? {
      big: 16 * MiB,
      capped: 8 * MiB,
      many: { count: 8, size: 1 * MiB },
      counter: 32 * MiB,
      fanout: { count: 8, size: 1 * MiB }
    }
  : {
      big: 1 * GiB,
      capped: 512 * MiB,
      many: { count: 32, size: 16 * MiB },
      counter: 1 * GiB,
      fanout: { count: 8, size: 32 * MiB }
    }
const STARTUP_ROUNDS = quick ? 1 : Math.max(5, runs)
// Case 1 is the noisiest (a GiB through the page cache of a shared VM): more rounds.
const BIG_ROUNDS = quick ? 1 : Math.max(5, runs)

const rows: Row[] = []
const notes: string[] = []
const samples: string[] = []

function log(message: string): void {
  process.stderr.write(`${message}\n`)
}

// ---------------------------------------------------------------------------------------------
// Set-up: tools, disk, scratch space

if (!existsSync(DIST)) {
  throw new Error(`${path.relative(ROOT, DIST)} is missing: run \`npm run build\` first.`)
}
const curl = which('curl')
const aria2c = which('aria2c')
if (!curl) notes.push('curl not installed: the curl columns are skipped (apt-get install curl).')
if (!aria2c) notes.push('aria2c not installed (apt-get install aria2): its column is skipped.')

const base = mkdtempSync(path.join(tmpdir(), 'datafiniti-bench-'))
const cleanUp = (): void => rmSync(base, { recursive: true, force: true })
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanUp()
    process.exit(130)
  })
}
{
  const fs = statfsSync(base)
  const free = fs.bavail * fs.bsize
  const need =
    Math.max(SIZES.big, SIZES.capped, SIZES.many.count * SIZES.many.size) * 1.25 + 64 * MiB
  log(`Scratch ${base}: ${formatSize(free)} free, ${formatSize(need)} needed`)
  if (free < need) {
    cleanUp()
    throw new Error(
      `Not enough free disk in ${tmpdir()}: ${formatSize(free)}, need ${formatSize(need)}`
    )
  }
}
// A snapshot of dist/, so that a rebuild while the bench runs changes nothing half-way.
const ACTION = path.join(base, 'dist', path.basename(DIST))
cpSync(path.dirname(DIST), path.dirname(ACTION), { recursive: true })
const ACTION_BUILT = statSync(DIST).mtime
const ACTION_GIT = gitState()
let scratchCount = 0
const nextScratch = (label: string): ReturnType<typeof scratch> =>
  scratch(base, `${String(++scratchCount).padStart(3, '0')}-${label}`)

// ---------------------------------------------------------------------------------------------
// CSV material: a ~1 MiB block of awkward CSV (quoted commas, quoted line breaks, doubled quotes)
// repeated, so that gigabytes are served from about a megabyte of memory.

function splitHeader(body: Buffer): { header: Buffer; block: Buffer } {
  const nl = body.indexOf(0x0a)
  return { header: body.subarray(0, nl + 1), block: body.subarray(nl + 1) }
}
const FILE_CSV = splitHeader(awkwardCsv(17_000, 7).body)

/** About `bytes` of CSV: the header and a whole number of blocks. */
function csvBody(bytes: number): FileBody {
  const { header, block } = FILE_CSV
  return repeatBody(header, block, Math.max(1, Math.round((bytes - header.length) / block.length)))
}

// ---------------------------------------------------------------------------------------------
// Contenders

async function withSimulator<T>(
  files: { name: string; body: FileBody }[],
  bytesPerSecond: number | undefined,
  fn: (sim: Simulator, id: number) => Promise<T>
): Promise<T> {
  const id = 6073
  const sim = await startSimulator({
    token: TOKEN,
    ...(bytesPerSecond ? { bytesPerSecond } : {}),
    requests: [{ id, pollsUntilComplete: 0, files }]
  })
  try {
    return await fn(sim, id)
  } finally {
    await sim.stop()
  }
}

/** The signed file URLs, asked for as the action would: the request, then its results. */
async function signedUrls(sim: Simulator, id: number): Promise<string[]> {
  const headers = { authorization: `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}` }
  const request = await fetch(`${sim.apiUrl}/v3/requests/${id}`, { headers })
  await request.arrayBuffer()
  const results = await fetch(`${sim.apiUrl}/v3/results/${id}`, { headers })
  if (!results.ok) throw new Error(`/v3/results answered ${results.status}`)
  return ((await results.json()) as { url: string }[]).map(result => result.url)
}

function actionInputs(sim: { apiUrl: string }, id: number, extra: Record<string, string>) {
  return {
    [Inputs.Token]: TOKEN,
    [Inputs.RequestId]: String(id),
    [Inputs.ApiUrl]: sim.apiUrl,
    [Inputs.PollInterval]: '50ms',
    ...extra
  }
}

/** Checks that the action wrote `count` files of `bytes` in all, as its outputs list them. */
function verifyFiles(run: ActionResult, count: number, bytes: number): void {
  const files = JSON.parse(run.outputs[Outputs.Files] ?? '[]') as string[]
  const written = files.reduce((sum, file) => sum + statSync(file).size, 0)
  if (files.length !== count || written !== bytes) {
    throw new Error(
      `The action wrote ${files.length} file(s), ${written} bytes; expected ${count}, ${bytes} bytes`
    )
  }
}

/** The action in files mode, verified; its work directory is removed before this returns. */
async function actionFiles(
  sim: Simulator,
  id: number,
  extra: Record<string, string>,
  expect: { count: number; bytes: number }
): Promise<ActionResult> {
  const work = nextScratch('action')
  try {
    const run = await runActionTimed({
      dist: ACTION,
      dir: work.dir,
      measureRss: true,
      timeoutMs: RUN_TIMEOUT_MS,
      inputs: actionInputs(sim, id, { [Inputs.Mode]: 'files', ...extra })
    })
    expectSuccess('The action', run)
    verifyFiles(run, expect.count, expect.bytes)
    return run
  } finally {
    work.remove()
  }
}

async function tool(
  name: string,
  command: string,
  args: (file: string, dir: string) => string[],
  bytes: number
): Promise<Timed> {
  const work = nextScratch(name)
  try {
    const file = path.join(work.dir, 'download.csv')
    const run = await timedSpawn(command, args(file, work.dir), {
      env: baseEnv(work.dir),
      cwd: work.dir,
      timeoutMs: RUN_TIMEOUT_MS
    })
    expectSuccess(name, run)
    const written = existsSync(file) ? statSync(file).size : -1
    if (written !== bytes) throw new Error(`${name} wrote ${written} bytes, expected ${bytes}`)
    return run
  } finally {
    work.remove()
  }
}

const curlRun = (url: string, bytes: number): Promise<Timed> =>
  tool('curl', curl as string, file => ['-s', '-o', file, url], bytes)

/**
 * The least any Node.js download can do: `http.get`, then each chunk written as it arrives, with
 * no counting, checks, retries or outputs. What the action costs beyond this is its own.
 */
const MINIMAL_NODE = [
  "const fs = require('node:fs')",
  'const [url, file] = process.argv.slice(1)',
  "const fd = fs.openSync(file, 'w')",
  "require('node:http').get(url, res => {",
  "  res.on('data', chunk => fs.writeSync(fd, chunk))",
  "  res.on('end', () => fs.closeSync(fd))",
  '})'
].join('\n')

const minimalNodeRun = (url: string, bytes: number): Promise<Timed> =>
  tool('node', NODE, file => ['-e', MINIMAL_NODE, url, file], bytes)

/** The same over `connections` byte ranges at once, each written at its offset. */
const MINIMAL_NODE_RANGES = [
  "const fs = require('node:fs')",
  "const http = require('node:http')",
  'const [url, file, connections, size] = process.argv.slice(1)',
  "const fd = fs.openSync(file, 'w')",
  'const step = Math.ceil(Number(size) / Number(connections))',
  'let open = Number(connections)',
  'for (let start = 0; start < Number(size); start += step) {',
  '  let at = start',
  '  const range = `bytes=${start}-${Math.min(Number(size), start + step) - 1}`',
  '  http.get(url, { headers: { range } }, res => {',
  "    res.on('data', chunk => (at += fs.writeSync(fd, chunk, 0, chunk.length, at)))",
  "    res.on('end', () => --open || fs.closeSync(fd))",
  '  })',
  '}'
].join('\n')

const minimalRangesRun = (url: string, bytes: number, connections: number): Promise<Timed> =>
  tool(
    'node-ranges',
    NODE,
    file => ['-e', MINIMAL_NODE_RANGES, url, file, String(connections), String(bytes)],
    bytes
  )

const aria2Run = (url: string, bytes: number): Promise<Timed> =>
  tool(
    'aria2c',
    aria2c as string,
    (file, dir) => [
      '-x8',
      '-s8',
      '-k1M',
      // Where to write, and no config file, console output or renaming: not speed settings.
      '--no-conf',
      '-q',
      '--allow-overwrite=true',
      '--auto-file-renaming=false',
      '-d',
      dir,
      '-o',
      path.basename(file),
      url
    ],
    bytes
  )

function record(n: number, label: string, values: readonly number[], format = formatMs): number {
  samples.push(`- (${n}) ${label}: ${formatSamples(values, format)}`)
  return median(values)
}

/** CPU use by other processes seen before each round, per measurement, for the notes. */
const quietLog = new Map<number, string[]>()

/** Before a round: wait (up to --quiet-wait) for other processes to leave the CPUs alone. */
async function settle(n: number): Promise<void> {
  if (quietWaitMs <= 0) return
  const quiet = await waitForQuiet(quietWaitMs)
  const busy = Number.isNaN(quiet.busy) ? '?' : `${(quiet.busy * 100).toFixed(0)}%`
  const waited = quiet.waitedMs >= quietWaitMs ? ' after giving up waiting' : ''
  const entry = `${busy}${waited}`
  quietLog.set(n, [...(quietLog.get(n) ?? []), entry])
  log(`  (CPUs ${busy} busy before this round, waited ${formatMs(quiet.waitedMs)})`)
}

const progress = (key: string, round: number, ms: number): void =>
  log(`  ${key} run ${round + 1}: ${formatMs(ms)}`)

// ---------------------------------------------------------------------------------------------
// 1. One big file, no cap: the action against curl, and the action's peak RSS.

async function bigFile(): Promise<void> {
  const body = csvBody(SIZES.big)
  const size = formatSize(body.size)
  log(`\n(1) one ${size} CSV file, no bandwidth cap`)
  await withSimulator([{ name: 'big.csv', body }], undefined, async (sim, id) => {
    const [url] = await signedUrls(sim, id)
    const rss: number[] = []
    const contenders: [string, () => Promise<number>][] = [
      [
        'action',
        async () => {
          const run = await actionFiles(sim, id, {}, { count: 1, bytes: body.size })
          if (run.rssMiB !== undefined) rss.push(run.rssMiB)
          return run.ms
        }
      ],
      [
        'action-c1',
        async () =>
          (
            await actionFiles(
              sim,
              id,
              { [Inputs.Concurrency]: '1' },
              { count: 1, bytes: body.size }
            )
          ).ms
      ],
      ['node', async () => (await minimalNodeRun(url as string, body.size)).ms],
      ['node-ranges', async () => (await minimalRangesRun(url as string, body.size, 4)).ms]
    ]
    if (curl) contenders.push(['curl', async () => (await curlRun(url as string, body.size)).ms])
    const times = await alternate(BIG_ROUNDS, contenders, {
      beforeRound: () => settle(1),
      onSample: progress
    })
    const action = record(1, 'action (files mode)', times['action'] ?? [])
    const single = record(1, 'action, concurrency 1', times['action-c1'] ?? [])
    const minimal = record(1, 'minimal Node.js download', times['node'] ?? [])
    const minimalRanges = record(1, 'minimal Node.js, 4 ranges', times['node-ranges'] ?? [])
    rows.push({
      n: 1,
      what: `${size} CSV, no cap: action (files mode, defaults: 4 connections) wall time`,
      figure: formatMs(action)
    })
    rows.push({
      n: 1,
      what: 'action, concurrency 1 (one connection, no ranges)',
      figure: formatMs(single)
    })
    rows.push({
      n: 1,
      what: 'minimal Node.js download (`http.get`, `fs.writeSync` per chunk, nothing else)',
      figure: formatMs(minimal)
    })
    rows.push({
      n: 1,
      what: 'minimal Node.js download over 4 byte ranges at once (the action’s default count)',
      figure: formatMs(minimalRanges)
    })
    if (curl) {
      const curlMs = record(1, 'curl', times['curl'] ?? [])
      const ratio = action / curlMs
      rows.push({ n: 1, what: '`curl -s -o FILE URL` wall time', figure: formatMs(curlMs) })
      rows.push({
        n: 1,
        what: 'action / curl',
        figure: formatRatio(ratio),
        target: '≤ 1.10×',
        met: ratio <= 1.1
      })
      rows.push({
        n: 1,
        what: 'action, concurrency 1 / curl',
        figure: formatRatio(single / curlMs)
      })
      rows.push({ n: 1, what: 'minimal Node.js / curl', figure: formatRatio(minimal / curlMs) })
      rows.push({
        n: 1,
        what: 'minimal Node.js, 4 ranges / curl',
        figure: formatRatio(minimalRanges / curlMs)
      })
    } else {
      rows.push({ n: 1, what: 'action / curl', figure: 'skipped: curl not installed' })
    }
    rows.push({
      n: 1,
      what: 'action / minimal Node.js, 4 ranges (same connections; the rest is counting, checks, start-up)',
      figure: formatRatio(action / minimalRanges)
    })
    rows.push({
      n: 1,
      what: 'action, concurrency 1 / minimal Node.js (one connection each)',
      figure: formatRatio(single / minimal)
    })
    const peak = record(1, 'action peak RSS', rss, mib)
    rows.push({
      n: 1,
      what: 'action peak RSS',
      figure: rss.length ? `${mib(peak)} (max ${mib(Math.max(...rss))})` : 'n/a',
      target: '≤ 100 MiB',
      ...(rss.length ? { met: peak <= 100 } : {})
    })
  })
}

// ---------------------------------------------------------------------------------------------
// 2. One file under the per-connection cap: concurrency 8 against curl and aria2c.

async function cappedFile(): Promise<void> {
  const body = csvBody(SIZES.capped)
  const size = formatSize(body.size)
  log(`\n(2) one ${size} CSV file, ${capMiBps} MiB/s per connection`)
  await withSimulator([{ name: 'capped.csv', body }], capBytesPerSecond, async (sim, id) => {
    const [url] = await signedUrls(sim, id)
    const rss: number[] = []
    const contenders: [string, () => Promise<number>][] = [
      [
        'action',
        async () => {
          const run = await actionFiles(
            sim,
            id,
            { [Inputs.Concurrency]: '8' },
            { count: 1, bytes: body.size }
          )
          if (run.rssMiB !== undefined) rss.push(run.rssMiB)
          return run.ms
        }
      ]
    ]
    if (curl) contenders.push(['curl', async () => (await curlRun(url as string, body.size)).ms])
    if (aria2c)
      contenders.push(['aria2c', async () => (await aria2Run(url as string, body.size)).ms])
    const times = await alternate(runs, contenders, {
      beforeRound: () => settle(2),
      onSample: progress
    })
    const what = `${size} CSV, ${capMiBps} MiB/s per connection`
    const action = record(2, 'action (concurrency 8)', times['action'] ?? [])
    rows.push({ n: 2, what: `${what}: action (concurrency 8) wall time`, figure: formatMs(action) })
    if (curl) {
      const curlMs = record(2, 'curl', times['curl'] ?? [])
      rows.push({ n: 2, what: '`curl -s -o FILE URL` wall time', figure: formatMs(curlMs) })
      const speedup = curlMs / action
      rows.push({
        n: 2,
        what: 'speed-up over curl (curl / action)',
        figure: formatRatio(speedup),
        target: '≥ 5×',
        met: speedup >= 5
      })
    } else {
      rows.push({ n: 2, what: 'speed-up over curl', figure: 'skipped: curl not installed' })
    }
    if (aria2c) {
      const ariaMs = record(2, 'aria2c', times['aria2c'] ?? [])
      rows.push({ n: 2, what: '`aria2c -x8 -s8 -k1M` wall time', figure: formatMs(ariaMs) })
      const ratio = action / ariaMs
      rows.push({
        n: 2,
        what: 'action / aria2c',
        figure: formatRatio(ratio),
        target: '≤ 1.00× (no slower)',
        met: ratio <= 1
      })
    } else {
      rows.push({
        n: 2,
        what: 'action / aria2c',
        figure: 'skipped: aria2c not installed (apt-get install aria2)'
      })
    }
    if (rss.length) {
      rows.push({
        n: 2,
        what: 'action peak RSS',
        figure: mib(record(2, 'action peak RSS', rss, mib))
      })
    }
  })
}

// ---------------------------------------------------------------------------------------------
// 3. Many files under the cap: concurrency 8 against concurrency 1.

async function manyFiles(): Promise<void> {
  const { count } = SIZES.many
  const files = Array.from({ length: count }, (_, i) => ({
    name: `part_${i + 1}.csv`,
    body: csvBody(SIZES.many.size)
  }))
  const bytes = files.reduce((sum, file) => sum + file.body.size, 0)
  const each = formatSize(files[0]?.body.size ?? 0)
  log(`\n(3) ${count} files of ${each}, ${capMiBps} MiB/s per connection`)
  await withSimulator(files, capBytesPerSecond, async (sim, id) => {
    const run = (concurrency: number) => async () =>
      (await actionFiles(sim, id, { [Inputs.Concurrency]: String(concurrency) }, { count, bytes }))
        .ms
    const times = await alternate(
      runs,
      [
        ['c8', run(8)],
        ['c1', run(1)]
      ],
      { beforeRound: () => settle(3), onSample: progress }
    )
    const c8 = record(3, 'concurrency 8', times.c8)
    const c1 = record(3, 'concurrency 1', times.c1)
    const what = `${count} × ${each} CSV, ${capMiBps} MiB/s per connection`
    rows.push({ n: 3, what: `${what}: action, concurrency 8`, figure: formatMs(c8) })
    rows.push({ n: 3, what: 'action, concurrency 1', figure: formatMs(c1) })
    rows.push({
      n: 3,
      what: 'speed-up (concurrency 1 / concurrency 8)',
      figure: formatRatio(c1 / c8),
      target: '≥ 6×',
      met: c1 / c8 >= 6
    })
  })
}

// ---------------------------------------------------------------------------------------------
// 4. The CSV record counter alone, in this process, on chunks sliced from memory.

async function counterSpeed(): Promise<void> {
  // An 8 MiB block, larger than most caches, sliced at every offset: no chunk is built while timed.
  const generated = awkwardCsv(137_000, 5)
  const { header, block } = splitHeader(generated.body)
  const ring = Buffer.concat([block, block.subarray(0, MiB)])
  const times = Math.max(1, Math.round((SIZES.counter - header.length) / block.length))
  const dataBytes = block.length * times
  const total = header.length + dataBytes
  const expected = generated.records * times
  log(`\n(4) csvCounter() over ${formatSize(total)} of CSV with quoted line breaks`)

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
  for (let round = 0; round < runs; round++) {
    await settle(4)
    for (const [name, sizes, engine] of variants) {
      const chunks = chunksOf(sizes())
      const ms = count(chunks, engine)
      const mbps = total / 1e6 / (ms / 1000)
      speeds.get(name)?.push(mbps)
      log(`  ${name} run ${round + 1}: ${mbps.toFixed(0)} MB/s`)
    }
  }
  const format = (v: number): string => `${v.toFixed(0)} MB/s`
  for (const [name] of variants) {
    const speed = record(4, `csvCounter, ${name}`, speeds.get(name) ?? [], format)
    rows.push({
      n: 4,
      what: `csvCounter() over ${formatSize(total)} of awkward CSV, ${name}`,
      figure: format(speed),
      target: '≥ 500 MB/s',
      met: speed >= 500
    })
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Start-up: process start to the first API request, against `node -e ''`.

async function startup(): Promise<void> {
  log(`\n(5) start-up, urls mode`)
  await withSimulator([{ name: 'one.csv', body: csvBody(1) }], undefined, async (sim, id) => {
    // A pass-through proxy in front of the simulator that notes when the first request arrives.
    const arrivals: number[] = []
    const target = new URL(sim.apiUrl)
    const proxy = http.createServer((req, res) => {
      arrivals.push(performance.now())
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers
        },
        answer => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        }
      )
      upstream.on('error', () => res.destroy())
      req.pipe(upstream)
    })
    await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    try {
      const toFirst: number[] = []
      const times = await alternate(
        STARTUP_ROUNDS,
        [
          [
            'node',
            async () => {
              const work = nextScratch('node')
              try {
                const run = await timedSpawn(NODE, ['-e', ''], {
                  env: baseEnv(work.dir),
                  cwd: work.dir,
                  timeoutMs: 60_000
                })
                expectSuccess("node -e ''", run)
                return run.ms
              } finally {
                work.remove()
              }
            }
          ],
          [
            'action',
            async () => {
              const work = nextScratch('urls')
              try {
                arrivals.length = 0
                const run = await runActionTimed({
                  dist: ACTION,
                  dir: work.dir,
                  timeoutMs: 60_000,
                  inputs: actionInputs({ apiUrl: proxyUrl }, id, { [Inputs.Mode]: 'urls' })
                })
                expectSuccess('The action (urls mode)', run)
                const urls = JSON.parse(run.outputs[Outputs.Urls] ?? '[]') as string[]
                if (urls.length !== 1) throw new Error(`urls output has ${urls.length} URL(s)`)
                const first = arrivals[0]
                if (first === undefined) throw new Error('no request reached the simulator')
                toFirst.push(first - run.startedAt)
                return run.ms
              } finally {
                work.remove()
              }
            }
          ]
        ],
        {
          beforeRound: () => settle(5),
          onSample: (key, round, ms) =>
            log(
              `  ${key} run ${round + 1}: ${formatMs(ms)}` +
                (key === 'action' ? `, first request at ${formatMs(toFirst.at(-1) ?? NaN)}` : '')
            )
        }
      )
      const node = record(5, "node -e ''", times.node)
      const firstMs = record(5, 'action, start to first API request', toFirst)
      const whole = record(5, 'action, urls mode, whole run', times.action)
      rows.push({ n: 5, what: "`node -e ''`, start to exit", figure: formatMs(node) })
      rows.push({ n: 5, what: 'action: start to first API request', figure: formatMs(firstMs) })
      rows.push({
        n: 5,
        what: "first request − `node -e ''`",
        figure: formatMs(firstMs - node),
        target: '< 150 ms',
        met: firstMs - node < 150
      })
      rows.push({ n: 5, what: 'action: whole urls-mode run, 1 file', figure: formatMs(whole) })
    } finally {
      proxy.closeAllConnections()
      await new Promise(resolve => proxy.close(resolve))
    }
  })
}

// ---------------------------------------------------------------------------------------------
// 6 and 9: artifact mode (bench/artifact.ts).

const artifactBench: Bench = {
  quick,
  runs,
  action: ACTION,
  base,
  timeoutMs: RUN_TIMEOUT_MS,
  token: TOKEN,
  rows,
  log,
  settle,
  record,
  scratch: nextScratch,
  csvBody,
  inputs: actionInputs,
  verifyFiles
}

// ---------------------------------------------------------------------------------------------
// Run, then report.

function commandLine(): string {
  const args = process.argv.slice(2)
  if (process.env['npm_lifecycle_event'] === 'bench') {
    return `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`
  }
  return ['npx tsx bench/bench.ts', ...args].join(' ')
}

function gitState(): string | undefined {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' })
  if (head.status !== 0) return undefined
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'dist'], {
    cwd: ROOT,
    encoding: 'utf8'
  })
  const changed = dirty.stdout.trim() !== ''
  return `commit ${head.stdout.trim()}${changed ? ', with uncommitted changes in src/ or dist/' : ''}`
}

function actionNodeVersion(): string {
  if (NODE === process.execPath) return process.version
  const result = spawnSync(NODE, ['--version'], { encoding: 'utf8' })
  return result.stdout.trim()
}

function report(elapsedMs: number): string {
  const host = machine()
  const built = ACTION_BUILT.toISOString()
  const git = ACTION_GIT
  const lines = [
    '# Benchmark results',
    '',
    `Produced by \`${commandLine()}\` on ${new Date().toISOString()}, in ${formatMs(elapsedMs)}.`,
    '',
    `- Machine: ${host.cpu}, ${host.cores} cores, ${host.memory} memory`,
    `- Node: ${process.version} (bench and simulator), ${actionNodeVersion()} (action)`,
    `- Action: dist/index.js built ${built}${git ? `, ${git}` : ''}`,
    `- Simulator on 127.0.0.1, file host capped at ${capMiBps} MiB/s per connection where noted; ` +
      `poll interval 50ms, request already complete`,
    `- ${quick ? 'Quick run: small sizes, ' : ''}${runs} run(s) per figure (start-up: ${STARTUP_ROUNDS}), ` +
      'figures are medians; contenders alternate within each round (A,B,A,B,…)',
    '',
    '| # | Measurement | Median | Target | Met |',
    '| - | ----------- | ------ | ------ | --- |',
    ...rows.map(
      row =>
        `| ${row.n} | ${row.what} | ${row.figure} | ${row.target ?? ''} | ${
          row.met === undefined ? '' : row.met ? '✓' : '✗'
        } |`
    ),
    ''
  ]
  if (quietLog.size) {
    notes.push(
      `Before each round the bench waited up to ${quietWaitMs / 1000} s for other processes to ` +
        'leave the CPUs under 20% busy for 2 s; CPU use seen just before each round: ' +
        [...quietLog].map(([n, seen]) => `(${n}) ${seen.join(', ')}`).join('; ')
    )
  }
  if (notes.length) lines.push('Notes:', '', ...notes.map(note => `- ${note}`), '')
  lines.push('Every run, in order:', '', ...samples, '')
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------
// 7 and 8. Downloads the action must verify by MD5: bench/verified.ts, lent what it needs here.

const verified: VerifiedContext = {
  sizes: { big: SIZES.big, fanout: SIZES.fanout },
  bigRounds: BIG_ROUNDS,
  runs,
  action: ACTION,
  curl,
  timeoutMs: RUN_TIMEOUT_MS,
  token: TOKEN,
  csvBody,
  signedUrls,
  actionInputs,
  nextScratch,
  settle,
  record,
  rows,
  notes,
  log
}

const started = performance.now()
try {
  if (only.has(1)) await bigFile()
  if (only.has(2)) await cappedFile()
  if (only.has(3)) await manyFiles()
  if (only.has(4)) await counterSpeed()
  if (only.has(5)) await startup()
  if (only.has(6)) await artifactMode(artifactBench)
  if (only.has(7)) await verifiedLargeFile(verified)
  if (only.has(8)) await verifiedFanOut(verified)
  if (only.has(9)) await compressionLevels(artifactBench)
} finally {
  cleanUp()
}
// Formatted as `prettier --check` wants it, so that a fresh RESULTS.md passes the format check.
const resultsFile = path.join(ROOT, 'bench', 'RESULTS.md')
const markdown = await prettier.format(report(performance.now() - started), {
  ...((await prettier.resolveConfig(resultsFile)) ?? {}),
  filepath: resultsFile
})
process.stdout.write(`\n${markdown}`)
if (writeResults) {
  const file = resultsFile
  writeFileSync(file, markdown)
  log(`Wrote ${path.relative(process.cwd(), file)}`)
} else {
  log('Quick or partial run: bench/RESULTS.md left as it was.')
}
