/**
 * Helpers for bench/bench.ts: timed child processes (the action spawned the way sim/runner.ts
 * spawns it, but with its start and end times, the arrival time of each output line and its peak
 * RSS), medians, formatting and a description of the machine.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { DIST, NODE, parseOutputFile } from '../sim/runner.js'
import { inputEnvName } from '../src/domain/action-io.js'

/** A row of the results table: which measurement, its figure, and the goal it is held to. */
export interface Row {
  n: number
  what: string
  figure: string
  target?: string
  met?: boolean
}

export interface Line {
  /** Milliseconds after the spawn at which the line arrived. */
  ms: number
  text: string
}

export interface Timed {
  code: number | null
  signal: NodeJS.Signals | null
  /** performance.now() just before spawn() and when the child exited. */
  startedAt: number
  endedAt: number
  /** Wall time, spawn to exit, in milliseconds. */
  ms: number
  stdout: string
  stderr: string
  lines: Line[]
}

export interface SpawnOptions {
  env: Record<string, string>
  cwd: string
  timeoutMs: number
}

/** The environment a runner gives a step, minus anything of ours (no proxy variables, no INPUT_*). */
export function baseEnv(home: string): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? home }
}

/** Runs a command to completion, timing it from just before spawn() to the child's exit. */
export async function timedSpawn(
  command: string,
  args: readonly string[],
  options: SpawnOptions
): Promise<Timed> {
  const lines: Line[] = []
  let stdout = ''
  let stderr = ''
  let pending = ''
  const startedAt = performance.now()
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let endedAt = startedAt
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      endedAt = performance.now()
      resolve([code, signal])
    })
  })
  const closed = new Promise<void>(resolve => child.once('close', () => resolve()))
  child.stdout.on('data', (chunk: Buffer) => {
    const ms = performance.now() - startedAt
    const text = chunk.toString()
    stdout += text
    pending += text
    const parts = pending.split('\n')
    pending = parts.pop() ?? ''
    for (const part of parts) lines.push({ ms, text: part })
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
  try {
    const [code, signal] = await exited
    await closed
    if (pending !== '') lines.push({ ms: endedAt - startedAt, text: pending })
    return { code, signal, startedAt, endedAt, ms: endedAt - startedAt, stdout, stderr, lines }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A preload that writes the process's peak RSS (KiB, getrusage ru_maxrss) and its CPU time (user +
 * system, every thread, µs) to $BENCH_RSS_FILE at exit. Passed as a data: URL so that it needs no
 * file and no GNU time.
 */
const RSS_PRELOAD = `data:text/javascript,${encodeURIComponent(
  'import{writeFileSync}from"node:fs";' +
    'process.on("exit",()=>{const f=process.env.BENCH_RSS_FILE;const u=process.resourceUsage();' +
    'if(f)writeFileSync(f,u.maxRSS+" "+(u.userCPUTime+u.systemCPUTime))})'
)}`

export interface ActionResult extends Timed {
  outputs: Record<string, string>
  workspace: string
  /** Peak resident set size in MiB, when measured. */
  rssMiB: number | undefined
  /** CPU time of the process (all its threads, user + system) in milliseconds, when measured. */
  cpuMs: number | undefined
}

export interface ActionOptions {
  inputs: Record<string, string>
  env?: Record<string, string>
  /** A fresh directory for this run's workspace and runner temp; removed by the caller. */
  dir: string
  measureRss?: boolean
  timeoutMs?: number
  /** The bundle to run; default dist/index.js. */
  dist?: string
}

/**
 * Runs dist/index.js with the environment conventions of sim/runner.ts (INPUT_*, GITHUB_OUTPUT,
 * GITHUB_STEP_SUMMARY, GITHUB_WORKSPACE, RUNNER_TEMP), timed.
 */
export async function runActionTimed(options: ActionOptions): Promise<ActionResult> {
  const workspace = path.join(options.dir, 'workspace')
  const runnerTemp = path.join(options.dir, 'runner-temp')
  mkdirSync(workspace, { recursive: true })
  mkdirSync(runnerTemp, { recursive: true })
  const outputFile = path.join(runnerTemp, 'output.txt')
  const summaryFile = path.join(runnerTemp, 'summary.md')
  const rssFile = path.join(runnerTemp, 'maxrss.txt')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const env: Record<string, string> = {
    ...baseEnv(runnerTemp),
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    ...options.env
  }
  for (const [name, value] of Object.entries(options.inputs)) env[inputEnvName(name)] = value
  const args = [options.dist ?? DIST]
  if (options.measureRss) {
    env['BENCH_RSS_FILE'] = rssFile
    args.unshift('--import', RSS_PRELOAD)
  }
  const run = await timedSpawn(NODE, args, {
    env,
    cwd: workspace,
    timeoutMs: options.timeoutMs ?? 15 * 60_000
  })
  const [rss, cpu] = existsSync(rssFile) ? readFileSync(rssFile, 'utf8').split(' ') : []
  return {
    ...run,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    workspace,
    rssMiB: rss === undefined ? undefined : Number(rss) / 1024,
    cpuMs: cpu === undefined ? undefined : Number(cpu) / 1000
  }
}

/** Throws with the tail of the output unless the action (or a tool) exited 0. */
export function expectSuccess(what: string, run: Timed): void {
  if (run.code === 0) return
  const tail = (run.stdout + run.stderr)
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .slice(-25)
    .join('\n')
  throw new Error(
    `${what} exited with ${run.code ?? run.signal ?? 'nothing'} after ${formatMs(run.ms)}:\n${tail}`
  )
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Runs every contender once per round, in the same order each round: A,B,A,B,A,B. */
export async function alternate<K extends string>(
  rounds: number,
  contenders: readonly [K, () => Promise<number>][],
  hooks: {
    beforeRound?: (round: number) => Promise<void>
    onSample?: (key: K, round: number, value: number) => void
  } = {}
): Promise<Record<K, number[]>> {
  const samples = Object.fromEntries(contenders.map(([key]) => [key, [] as number[]])) as Record<
    K,
    number[]
  >
  for (let round = 0; round < rounds; round++) {
    await hooks.beforeRound?.(round)
    for (const [key, fn] of contenders) {
      const value = await fn()
      samples[key].push(value)
      hooks.onSample?.(key, round, value)
    }
  }
  return samples
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a'
  return ms >= 10_000
    ? `${(ms / 1000).toFixed(1)} s`
    : ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${ms.toFixed(0)} ms`
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2)
  return `${text} ${units[unit] ?? 'B'}`
}

export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a'
}

/** `1.2 s, 1.3 s, 1.2 s` for the raw samples behind a median. */
export function formatSamples(values: readonly number[], format = formatMs): string {
  return values.map(format).join(', ')
}

/** The executable's absolute path if it is on PATH. */
export function which(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue
    const candidate = path.join(dir, command)
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

export function machine(): { cpu: string; cores: number; memory: string } {
  let cpu = os.cpus()[0]?.model ?? 'unknown'
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (match?.[1]) cpu = match[1].trim()
  } catch {
    // not Linux: keep os.cpus()
  }
  return { cpu, cores: os.availableParallelism(), memory: formatSize(os.totalmem()) }
}

/** A fresh empty directory under `base` for one run; `remove()` deletes it (1 GiB files!). */
export function scratch(base: string, name: string): { dir: string; remove(): void } {
  const dir = path.join(base, name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Busy and total jiffies of all CPUs since boot, from /proc/stat; undefined off Linux. */
function cpuJiffies(): { busy: number; total: number } | undefined {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
    const fields = first.trim().split(/\s+/).slice(1).map(Number)
    const total = fields.reduce((sum, value) => sum + value, 0)
    // idle and iowait are the 4th and 5th fields.
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return undefined
  }
}

export interface Quiet {
  waitedMs: number
  /** Share of all CPUs busy in the last sample, 0..1; NaN when unknown. */
  busy: number
}

/**
 * Other people's processes (a test run, a type check) skew every timing on a small machine: waits
 * until the CPUs have been under `threshold` busy for `quietMs`, or `maxMs` has passed. The bench
 * itself is idle meanwhile, so what it sees is everyone else.
 */
export async function waitForQuiet(maxMs: number, threshold = 0.2, quietMs = 2000): Promise<Quiet> {
  const started = performance.now()
  const stepMs = 500
  let quietFor = 0
  let busy = NaN
  let before = cpuJiffies()
  if (!before) return { waitedMs: 0, busy }
  for (;;) {
    await new Promise(resolve => setTimeout(resolve, stepMs))
    const after = cpuJiffies()
    if (!after) return { waitedMs: performance.now() - started, busy }
    const total = after.total - before.total
    busy = total > 0 ? (after.busy - before.busy) / total : 0
    before = after
    quietFor = busy < threshold ? quietFor + stepMs : 0
    const waitedMs = performance.now() - started
    if (quietFor >= quietMs || waitedMs >= maxMs) return { waitedMs, busy }
  }
}
