/**
 * The world an integration test runs the built action in: the Datafiniti simulator and, for
 * artifact mode, the artifact backend, started once per file and stopped after it.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { afterAll, beforeAll } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { startArtifactBackend, type ArtifactBackend } from '../../sim/artifact-backend.js'
import { printed, runAction, type ActionRun, type RunOptions } from '../../sim/runner.js'
import { startSimulator, type SimOptions, type Simulator } from '../../sim/simulator.js'
import { expectFreeOf } from './leaks.js'
import { expectMasked } from './masks.js'

export interface World {
  /** The simulator: there from the file's beforeAll on. */
  readonly sim: Simulator
  /** The artifact backend, when the world was asked for one. */
  readonly backend: ArtifactBackend
  /** The token, the simulator's api-url, a 50ms poll-interval, the file's own inputs, then `extra`. */
  inputs(extra?: Record<string, string>): Record<string, string>
  /** Runs dist/index.js with `inputs(extra)`. */
  run(extra?: Record<string, string>, options?: Omit<RunOptions, 'inputs'>): Promise<ActionRun>
  /**
   * Fails when the run printed, or wrote in its summary, a credential or an unmasked signature, or
   * did not mask the token, its Basic form and the signature of every URL of its `urls` output.
   */
  expectNoSecrets(run: ActionRun, extra?: readonly (string | RegExp)[]): void
}

/**
 * Starts the simulator (and with `artifacts`, the artifact backend) before the file's tests and
 * stops whatever started after them. Call it at the top level of a test file.
 */
export function useWorld(
  simOptions: SimOptions,
  options: { artifacts?: boolean; inputs?: Record<string, string> } = {}
): World {
  let sim: Simulator | undefined
  let backend: ArtifactBackend | undefined
  beforeAll(async () => {
    // Each is kept as soon as it runs, so that afterAll stops it even when the other fails to start.
    await Promise.all([
      startSimulator(simOptions).then(started => (sim = started)),
      options.artifacts ? startArtifactBackend().then(started => (backend = started)) : undefined
    ])
  })
  afterAll(async () => {
    await Promise.all([sim?.stop(), backend?.stop()])
  })

  const basic = Buffer.from(`${simOptions.token}:`).toString('base64')
  const secrets = [
    simOptions.token,
    basic,
    /X-Amz-Signature=(?!\*)/,
    /X-Amz-Credential=(?!\*)/
  ] as const
  const world: World = {
    get sim() {
      if (!sim) throw new Error('the simulator runs from beforeAll to afterAll only')
      return sim
    },
    get backend() {
      if (!backend) throw new Error('useWorld was not asked for the artifact backend')
      return backend
    },
    inputs: (extra = {}) => ({
      [Inputs.Token]: simOptions.token,
      [Inputs.ApiUrl]: world.sim.apiUrl,
      [Inputs.PollInterval]: '50ms',
      ...options.inputs,
      ...extra
    }),
    run: (extra = {}, runOptions = {}) => runAction({ ...runOptions, inputs: world.inputs(extra) }),
    expectNoSecrets: (run, extra = []) => {
      expectFreeOf(printed(run) + run.summary, [...secrets, ...extra])
      expectMasked(run, simOptions.token)
    }
  }
  return world
}

/** The `files` output: the paths of the downloaded files. */
export function outputFiles(run: ActionRun): string[] {
  return JSON.parse(run.outputs[Outputs.Files] ?? '[]') as string[]
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

/** The sha256 of each downloaded file, in the order of the `files` output. */
export function fileHashes(run: ActionRun): string[] {
  return outputFiles(run).map(sha256File)
}

/**
 * The `.part` files left in a download directory. The directory must exist: a run that never made
 * it has nothing to show, and a check over it would pass whatever the code did.
 */
export function partFiles(dir: string): string[] {
  if (!existsSync(dir)) throw new Error(`no download directory ${dir} to look for .part files in`)
  return readdirSync(dir).filter(name => name.endsWith('.part'))
}
