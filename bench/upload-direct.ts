/**
 * `@actions/artifact`'s `uploadArtifact()` called directly, the contender of the action's upload
 * phase in case 6: a small script written to the scratch directory and run by node with the
 * environment the action had, on the files the action just downloaded.
 */
import * as path from 'node:path'
import type { ArtifactBackend } from '../sim/artifact-backend.js'
import { NODE } from '../sim/runner.js'
import { Outputs } from './src-imports.js'
import { baseEnv, expectSuccess, timedSpawn, type ActionResult, type Timed } from './timed-spawn.js'

/**
 * `@actions/artifact` on its own: imports it (from node_modules, untimed by `ms`), then times
 * `uploadArtifact()` and prints the result and the process's peak RSS as the last line.
 */
export const UPLOAD_DIRECT = `const [moduleUrl, name, level, root, ...files] = process.argv.slice(2)
const importStarted = performance.now()
const { DefaultArtifactClient } = await import(moduleUrl)
const importMs = performance.now() - importStarted
const client = new DefaultArtifactClient()
const started = performance.now()
const result = await client.uploadArtifact(name, files, root, { compressionLevel: Number(level) })
const ms = performance.now() - started
const rssKiB = process.resourceUsage().maxRSS
process.stdout.write('BENCH ' + JSON.stringify({ ms, importMs, size: result.size, rssKiB }) + '\\n')
`

export interface DirectResult {
  run: Timed
  /** uploadArtifact() alone. */
  ms: number
  importMs: number
  size: number
  rssMiB: number
}

/** The direct upload of the files the action downloaded in `run`, with the env the action had. */
export async function uploadDirect(
  script: string,
  backend: ArtifactBackend,
  run: ActionResult,
  work: string,
  name: string,
  level: number,
  timeoutMs: number
): Promise<DirectResult> {
  const files = JSON.parse(run.outputs[Outputs.Files] ?? '[]') as string[]
  const manifest = run.outputs[Outputs.Manifest]
  const root = run.outputs[Outputs.DownloadPath]
  if (!manifest || !root) throw new Error('the action set no manifest or download-path output')
  const runnerTemp = path.join(work, 'runner-temp')
  const direct = await timedSpawn(
    NODE,
    [
      script,
      import.meta.resolve('@actions/artifact'),
      name,
      String(level),
      root,
      ...files,
      manifest
    ],
    {
      env: {
        ...baseEnv(runnerTemp),
        GITHUB_ACTIONS: 'true',
        GITHUB_WORKSPACE: run.workspace,
        RUNNER_TEMP: runnerTemp,
        ...backend.env
      },
      cwd: run.workspace,
      timeoutMs
    }
  )
  expectSuccess('uploadArtifact() called directly', direct)
  const last = [...direct.lines].reverse().find(line => line.text.startsWith('BENCH '))
  if (!last) throw new Error(`no result from the direct upload:\n${direct.stdout}`)
  const result = JSON.parse(last.text.slice('BENCH '.length)) as {
    ms: number
    importMs: number
    size: number
    rssKiB: number
  }
  return { run: direct, ...result, rssMiB: result.rssKiB / 1024 }
}
