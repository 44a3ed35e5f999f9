/**
 * The set-up every case shares: the scratch space (checked for room), a snapshot of dist/, the
 * tools found on PATH, and the results table the cases add their rows, samples and notes to. A
 * case sees all of it as a `Case`, bound to its number.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync, statSync, statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { DIST, ROOT } from '../sim/runner.js'
import { formatMs, formatSamples, formatSize, median, type Row } from './figures.js'
import { scratch, waitForQuiet, which } from './machine.js'

const MiB = 1024 * 1024

/** Sizes of what the cases serve; `--quick` makes them small. */
export interface Sizes {
  big: number
  capped: number
  many: { count: number; size: number }
  counter: number
  artifact: { count: number; size: number }
  fanout: { count: number; size: number }
}

/** What the command line asked for. */
export interface Settings {
  quick: boolean
  runs: number
  capMiBps: number
  quietWaitMs: number
  /** Rounds of the 1 GiB downloads, the noisiest figures (a GiB through a shared page cache). */
  bigRounds: number
  startupRounds: number
  sizes: Sizes
}

export interface Scratch {
  dir: string
  remove(): void
}

/** What every case may use, whatever its number. */
export interface Bench extends Settings {
  /** The snapshot of dist/index.js to run. */
  action: string
  /** The bench's scratch directory (removed at the end). */
  base: string
  timeoutMs: number
  curl: string | undefined
  aria2c: string | undefined
  log: (message: string) => void
  /** A fresh directory for one run, numbered in the order asked for. */
  scratch: (label: string) => Scratch
}

/** The bench as one case sees it: its rows, samples, notes and quiet waits go under its number. */
export interface Case extends Bench {
  n: number
  row: (row: Omit<Row, 'n'>) => void
  note: (text: string) => void
  /** Notes the samples behind a figure; returns their median. */
  record: (label: string, values: readonly number[], format?: (value: number) => string) => number
  /** Before a round: wait (up to --quiet-wait) for other processes to leave the CPUs alone. */
  settle: () => Promise<void>
  /** Logs one sample as `key run N: time`. */
  progress: (key: string, round: number, ms: number) => void
}

/** The report's material, in the order the cases added it. */
export interface Table {
  rows: Row[]
  notes: string[]
  samples: string[]
  /** CPU use by other processes seen before each round, per case number. */
  quiet: Map<number, string[]>
}

export interface World {
  bench: Bench
  table: Table
  /** When dist/index.js was built, and the git state it was built from. */
  built: Date
  git: string | undefined
  forCase(n: number): Case
  cleanUp(): void
}

export function log(message: string): void {
  process.stderr.write(`${message}\n`)
}

/** The git commit of the bundle measured, and whether src/ or dist/ differ from it. */
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

export function setUp(settings: Settings, timeoutMs: number): World {
  if (!existsSync(DIST)) {
    throw new Error(`${path.relative(ROOT, DIST)} is missing: run \`npm run build\` first.`)
  }
  const table: Table = { rows: [], notes: [], samples: [], quiet: new Map() }
  const curl = which('curl')
  const aria2c = which('aria2c')
  if (!curl)
    table.notes.push('curl not installed: the curl columns are skipped (apt-get install curl).')
  if (!aria2c)
    table.notes.push('aria2c not installed (apt-get install aria2): its column is skipped.')

  const base = mkdtempSync(path.join(tmpdir(), 'datafiniti-bench-'))
  const cleanUp = (): void => rmSync(base, { recursive: true, force: true })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanUp()
      process.exit(130)
    })
  }
  const { sizes } = settings
  const fs = statfsSync(base)
  const free = fs.bavail * fs.bsize
  const need =
    Math.max(sizes.big, sizes.capped, sizes.many.count * sizes.many.size) * 1.25 + 64 * MiB
  log(`Scratch ${base}: ${formatSize(free)} free, ${formatSize(need)} needed`)
  if (free < need) {
    cleanUp()
    throw new Error(
      `Not enough free disk in ${tmpdir()}: ${formatSize(free)}, need ${formatSize(need)}`
    )
  }
  // A snapshot of dist/, so that a rebuild while the bench runs changes nothing half-way.
  const action = path.join(base, 'dist', path.basename(DIST))
  cpSync(path.dirname(DIST), path.dirname(action), { recursive: true })
  const built = statSync(DIST).mtime
  const git = gitState()

  let scratchCount = 0
  const bench: Bench = {
    ...settings,
    action,
    base,
    timeoutMs,
    curl,
    aria2c,
    log,
    scratch: label => scratch(base, `${String(++scratchCount).padStart(3, '0')}-${label}`)
  }

  const forCase = (n: number): Case => ({
    ...bench,
    n,
    row: row => table.rows.push({ n, ...row }),
    note: text => table.notes.push(text),
    record(label, values, format = formatMs) {
      table.samples.push(`- (${n}) ${label}: ${formatSamples(values, format)}`)
      return median(values)
    },
    async settle() {
      const maxMs = settings.quietWaitMs
      if (maxMs <= 0) return
      const quiet = await waitForQuiet(maxMs)
      const busy = Number.isNaN(quiet.busy) ? '?' : `${(quiet.busy * 100).toFixed(0)}%`
      const waited = quiet.waitedMs >= maxMs ? ' after giving up waiting' : ''
      table.quiet.set(n, [...(table.quiet.get(n) ?? []), `${busy}${waited}`])
      log(`  (CPUs ${busy} busy before this round, waited ${formatMs(quiet.waitedMs)})`)
    },
    progress: (key, round, ms) => log(`  ${key} run ${round + 1}: ${formatMs(ms)}`)
  })

  return { bench, table, built, git, forCase, cleanUp }
}
