/**
 * The contenders of the cases and how they take turns: the action in files mode, curl, aria2c and
 * the Node.js floors, each run in a fresh directory and checked for what it wrote; and every
 * contender once per round, in the same order, so that a slow patch of a shared machine hits all
 * of them alike.
 */
import { existsSync, statSync } from 'node:fs'
import * as path from 'node:path'
import { NODE } from '../sim/runner.js'
import type { Simulator } from '../sim/simulator.js'
import { MINIMAL_NODE, MINIMAL_NODE_RANGES } from './node-floors.js'
import { actionInputs } from './serve.js'
import type { Bench } from './setup.js'
import { Inputs, Outputs } from './src-imports.js'
import {
  baseEnv,
  expectSuccess,
  runActionTimed,
  timedSpawn,
  type ActionResult,
  type Timed
} from './timed-spawn.js'

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

/** Checks that the action wrote `count` files of `bytes` in all, as its outputs list them. */
export function verifyFiles(run: ActionResult, count: number, bytes: number): void {
  const files = JSON.parse(run.outputs[Outputs.Files] ?? '[]') as string[]
  const written = files.reduce((sum, file) => sum + statSync(file).size, 0)
  if (files.length !== count || written !== bytes) {
    throw new Error(
      `The action wrote ${files.length} file(s), ${written} bytes; expected ${count}, ${bytes} bytes`
    )
  }
}

export interface ActionFilesOptions {
  env?: Record<string, string>
  /** A further check of the finished run, made before its work directory goes. */
  check?: (run: ActionResult) => void
}

/** The action in files mode, verified; its work directory is removed before this returns. */
export async function actionFiles(
  bench: Bench,
  sim: Simulator,
  id: number,
  extra: Record<string, string>,
  expect: { count: number; bytes: number },
  options: ActionFilesOptions = {}
): Promise<ActionResult> {
  const work = bench.scratch('action')
  try {
    const run = await runActionTimed({
      dist: bench.action,
      dir: work.dir,
      measureRss: true,
      timeoutMs: bench.timeoutMs,
      ...(options.env ? { env: options.env } : {}),
      inputs: actionInputs(sim, id, { [Inputs.Mode]: 'files', ...extra })
    })
    expectSuccess('The action', run)
    verifyFiles(run, expect.count, expect.bytes)
    options.check?.(run)
    return run
  } finally {
    work.remove()
  }
}

/**
 * Runs a downloader that writes FILE in a fresh directory; checks its exit, the size written and,
 * when `md5` is set, that its stdout starts with that MD5 (as `md5sum` prints it).
 */
export async function download(
  bench: Bench,
  name: string,
  command: string,
  args: (file: string, dir: string) => string[],
  expect: { bytes: number; md5?: string },
  env: Record<string, string> = {}
): Promise<Timed> {
  const work = bench.scratch(name)
  try {
    const file = path.join(work.dir, 'download.csv')
    const run = await timedSpawn(command, args(file, work.dir), {
      env: { ...baseEnv(work.dir), ...env },
      cwd: work.dir,
      timeoutMs: bench.timeoutMs
    })
    expectSuccess(name, run)
    const written = existsSync(file) ? statSync(file).size : -1
    if (written !== expect.bytes) {
      throw new Error(`${name} wrote ${written} bytes, expected ${expect.bytes}`)
    }
    const printed = run.stdout.split(/\s/, 1)[0]
    if (expect.md5 !== undefined && printed !== expect.md5) {
      throw new Error(`${name} printed MD5 ${printed ?? 'nothing'}, expected ${expect.md5}`)
    }
    return run
  } finally {
    work.remove()
  }
}

/** `curl -s -o FILE URL`; `trust` adds its CA options for HTTPS. */
export const curlRun = (
  bench: Bench,
  url: string,
  bytes: number,
  trust: readonly string[] = []
): Promise<Timed> =>
  download(bench, 'curl', bench.curl as string, file => ['-s', ...trust, '-o', file, url], {
    bytes
  })

export const minimalNodeRun = (bench: Bench, url: string, bytes: number): Promise<Timed> =>
  download(bench, 'node', NODE, file => ['-e', MINIMAL_NODE, url, file], { bytes })

export const minimalRangesRun = (
  bench: Bench,
  url: string,
  bytes: number,
  connections: number
): Promise<Timed> =>
  download(
    bench,
    'node-ranges',
    NODE,
    file => ['-e', MINIMAL_NODE_RANGES, url, file, String(connections), String(bytes)],
    { bytes }
  )

export const aria2Run = (bench: Bench, url: string, bytes: number): Promise<Timed> =>
  download(
    bench,
    'aria2c',
    bench.aria2c as string,
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
    { bytes }
  )
