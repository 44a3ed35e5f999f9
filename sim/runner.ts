/**
 * Runs the built dist/index.js exactly as a GitHub runner does: a child process fed by env
 * (`INPUT_*` with hyphens kept, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_WORKSPACE, RUNNER_TEMP).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parse } from 'yaml'
import { Environment, inputEnvName } from '../src/domain/action-io.js'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const DIST = path.join(ROOT, 'dist', 'index.js')
/** CI sets ACTION_NODE to run the same tests under another Node (24). */
/** The guard every action run loads first. */
const LOOPBACK_ONLY = pathToFileURL(path.join(ROOT, 'sim', 'loopback-only.js')).href

export const NODE = process.env['ACTION_NODE'] || process.execPath

export interface ActionRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  workspace: string
}

export interface RunOptions {
  inputs: Record<string, string>
  env?: Record<string, string>
  workspace?: string
  /** Called once the child is running, e.g. to send it a signal. */
  onStart?: (child: ReturnType<typeof spawn>, output: () => string) => void
  timeoutMs?: number
  /** Also copy the action's output to this process's stdout as it comes (for the demo). */
  echo?: boolean
  /** Largest file the action may write, in bytes (RLIMIT_FSIZE): past it, writes fail (EFBIG). */
  fileSizeLimit?: number
  /**
   * The action's wall clock runs this far from the real one (`Date` only; timers keep real time):
   * how a test runs a schedule's days or weeks apart in seconds.
   */
  clockOffsetMs?: number
}

/** A module run before the action that moves `Date` by `offsetMs`. */
function shiftedClock(dir: string, offsetMs: number): string {
  const file = path.join(dir, 'shifted-clock.mjs')
  writeFileSync(
    file,
    `const Real = Date
const offset = ${JSON.stringify(offsetMs)}
class Shifted extends Real {
  constructor(...args) {
    if (args.length === 0) super(Real.now() + offset)
    else super(...args)
  }
  static now() {
    return Real.now() + offset
  }
}
globalThis.Date = Shifted
`
  )
  return file
}

/**
 * What the runner passes for every input action.yml declares when the workflow's `with:` leaves it
 * out: its `default:`, or '' when it has none (actions/runner ActionRunner.cs evaluates the
 * manifest's default for each declared input whose key `with:` lacks; a `with:` value, even '',
 * is kept as given).
 */
export function actionDefaults(
  actionYml = readFileSync(path.join(ROOT, 'action.yml'), 'utf8')
): Record<string, string> {
  // Defaults are strings: test/unit/docs.test.ts holds action.yml to that.
  const meta = parse(actionYml) as { inputs?: Record<string, { default?: string } | null> }
  return Object.fromEntries(
    Object.entries(meta.inputs ?? {}).map(([name, input]) => [name, input?.default ?? ''])
  )
}

/** The `name<<delimiter` format that @actions/core writes to GITHUB_OUTPUT. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '')
    if (!match) continue
    const [, name, delimiter] = match
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '')
    outputs[name as string] = value.join('\n')
  }
  return outputs
}

export async function runAction(options: RunOptions): Promise<ActionRun> {
  const workspace = options.workspace ?? mkdtempSync(path.join(tmpdir(), 'ws-'))
  const runnerTemp = mkdtempSync(path.join(tmpdir(), 'runner-temp-'))
  const outputFile = path.join(runnerTemp, 'output.txt')
  const summaryFile = path.join(runnerTemp, 'summary.md')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? runnerTemp,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    // `npm run test:fallback` runs the transfer suites again with every file request through
    // @actions/http-client: the test process's setting reaches the action.
    ...(process.env[Environment.DirectDownloads] !== undefined
      ? { [Environment.DirectDownloads]: process.env[Environment.DirectDownloads] }
      : {}),
    ...options.env
  }
  // As the runner does: every declared input is set, to the test's value or else to its default.
  for (const [name, value] of Object.entries({ ...actionDefaults(), ...options.inputs }))
    env[inputEnvName(name)] = value

  // Every run of the action is held to loopback (sim/loopback-only.js): a name the test did not map
  // fails to resolve instead of asking the machine's DNS server, which is not on loopback.
  env['DATAFINITI_SIM_HOSTS'] ??= '{}'
  // prlimit, not a shell's ulimit: a shell would drop the INPUT_* names, which have hyphens.
  const node = [
    '--import',
    LOOPBACK_ONLY,
    ...(options.clockOffsetMs
      ? ['--import', pathToFileURL(shiftedClock(runnerTemp, options.clockOffsetMs)).href]
      : []),
    DIST
  ]
  const [command, args] =
    options.fileSizeLimit === undefined
      ? [NODE, node]
      : ['prlimit', [`--fsize=${options.fileSizeLimit}`, '--', NODE, ...node]]
  const child = spawn(command, args, { env, cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let pending = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    if (!options.echo) return
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      const shown = asRunnerShows(line)
      if (shown !== undefined) process.stdout.write(`${shown}\n`)
    }
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  options.onStart?.(child, () => stdout)
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve =>
    child.once('close', (c, s) => resolve([c, s]))
  )
  clearTimeout(timer)
  return {
    code,
    signal,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    workspace
  }
}

/**
 * A workflow-command line as the runner's log shows it: debug lines and masks hidden (without
 * ACTIONS_STEP_DEBUG), groups as headers, annotations coloured.
 */
export function asRunnerShows(line: string): string | undefined {
  const unescape = (text: string): string =>
    text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
  if (line.startsWith('::debug::') || line.startsWith('::add-mask::')) return undefined
  if (line.startsWith('::endgroup::')) return undefined
  const group = /^::group::(.*)$/.exec(line)
  if (group) return `\x1b[36m▶ ${unescape(group[1] ?? '')}\x1b[0m`
  const annotation = /^::(error|warning|notice)[^:]*::(.*)$/.exec(line)
  if (annotation) {
    const colour = annotation[1] === 'error' ? '31' : annotation[1] === 'warning' ? '33' : '34'
    return `\x1b[${colour}m${annotation[1] === 'error' ? 'Error' : annotation[1] === 'warning' ? 'Warning' : 'Notice'}: ${unescape(annotation[2] ?? '')}\x1b[0m`
  }
  return `  ${line}`
}

/** Everything the process printed, less the `::add-mask::` commands that must carry the secret. */
export function printed(run: ActionRun): string {
  return (run.stdout + run.stderr)
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
}

/** Undoes @actions/core's escaping of %, CR and LF in workflow commands. */
function unescapeCommand(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/** The messages of the `::error::` or `::warning::` annotations the action printed. */
export function annotations(run: ActionRun, kind: 'error' | 'warning'): string[] {
  const prefix = `::${kind}::`
  return run.stdout
    .split('\n')
    .filter(line => line.startsWith(prefix))
    .map(line => unescapeCommand(line.slice(prefix.length)))
}

/** The message core.setFailed printed, or '' when the run did not fail. */
export function failureOf(run: ActionRun): string {
  return annotations(run, 'error')[0] ?? ''
}
