/**
 * Timed child processes: a command run from just before spawn() to its exit, with the arrival time
 * of each output line; and the action run that way, with the environment conventions of
 * sim/runner.ts and, when asked, its peak RSS.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { DIST, NODE, parseOutputFile } from '../sim/runner.js'
import { formatMs } from './figures.js'
import { inputEnvName } from './src-imports.js'

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
 * A preload that writes the process's peak RSS (KiB, getrusage ru_maxrss) and CPU time (user +
 * system, all threads, µs) to $BENCH_RSS_FILE at
 * exit. Passed as a data: URL so that it needs no file and no GNU time.
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
  const rssMiB = rss === undefined ? undefined : Number(rss) / 1024
  const cpuMs = cpu === undefined ? undefined : Number(cpu) / 1000
  return {
    ...run,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    workspace,
    rssMiB,
    cpuMs
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
