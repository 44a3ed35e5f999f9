/** Runs the built dist/index.js exactly as the runner does: a child process fed by env. */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { inputEnvName } from '../../src/settings.js'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const DIST = path.join(ROOT, 'dist', 'index.js')
/** CI sets ACTION_NODE to run the same tests under another Node (24). */
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
    ...options.env
  }
  for (const [name, value] of Object.entries(options.inputs)) env[inputEnvName(name)] = value

  const child = spawn(NODE, [DIST], { env, cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
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

/** Everything the process printed, less the `::add-mask::` commands that must carry the secret. */
export function printed(run: ActionRun): string {
  return (run.stdout + run.stderr)
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
}
