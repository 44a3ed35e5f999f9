/**
 * What cases 6 and 9 share: the action in artifact mode against the simulator and the local
 * artifact backend (sim/artifact-backend.ts: the Results service's twirp API in front of Azurite),
 * the time in each of its log groups, and the artifact the backend stored.
 */
import { startArtifactBackend, type ArtifactBackend } from '../sim/artifact-backend.js'
import type { SimRequest, Simulator } from '../sim/simulator.js'
import { actionInputs, withRequests } from './serve.js'
import type { Bench } from './setup.js'
import { Inputs } from './src-imports.js'
import { expectSuccess, runActionTimed, type ActionResult, type Timed } from './timed-spawn.js'

/** The artifact backend, then the simulator serving `requests`, while `fn` runs; both stopped after. */
export async function withArtifactBackend<T>(
  requests: SimRequest[],
  fn: (backend: ArtifactBackend, sim: Simulator) => Promise<T>
): Promise<T> {
  const backend = await startArtifactBackend()
  try {
    return await withRequests(requests, {}, sim => fn(backend, sim))
  } finally {
    await backend.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// Phases: the action's log groups

export const PHASES = [
  'start-up',
  'validate',
  'wait',
  'download',
  'upload',
  'finish',
  'other'
] as const
export type Phase = (typeof PHASES)[number]
export const PHASE_LABEL: Record<Phase, string> = {
  'start-up': 'start-up',
  validate: 'validate',
  wait: 'wait',
  download: 'download',
  upload: 'zip + upload',
  finish: 'finish',
  other: 'other'
}

/** Time in each `::group::` of the log (by arrival of the lines), and before, after and between. */
export function phases(run: Timed): Record<Phase, number> {
  const result: Record<Phase, number> = {
    'start-up': run.ms,
    validate: 0,
    wait: 0,
    download: 0,
    upload: 0,
    finish: 0,
    other: 0
  }
  let open: { phase: Phase; ms: number } | undefined
  let firstGroup: number | undefined
  let lastEnd: number | undefined
  for (const { ms, text } of run.lines) {
    const group = /^::group::(.*)$/.exec(text.trimEnd())
    if (group) {
      const title = group[1] ?? ''
      const phase: Phase = /^Validate/i.test(title)
        ? 'validate'
        : /^Wait/i.test(title)
          ? 'wait'
          : /^Download/i.test(title)
            ? 'download'
            : /^Upload/i.test(title)
              ? 'upload'
              : 'other'
      open = { phase, ms }
      firstGroup ??= ms
    } else if (text.startsWith('::endgroup::') && open) {
      result[open.phase] += ms - open.ms
      lastEnd = ms
      open = undefined
    }
  }
  result['start-up'] = firstGroup ?? run.ms
  result.finish = lastEnd === undefined ? 0 : run.ms - lastEnd
  const counted = PHASES.filter(p => p !== 'other').reduce((sum, p) => sum + result[p], 0)
  result.other += Math.max(0, run.ms - counted)
  return result
}

/**
 * The span of `uploadArtifact()` that both the action and the direct call log the same way:
 * from its `Uploading artifact:` line (after CreateArtifact) to its `… successfully finalized`
 * line. What the action's upload phase has beyond it is the action's own.
 */
export function insideUpload(run: Timed): number {
  const at = (pattern: RegExp): number | undefined =>
    run.lines.find(line => pattern.test(line.text))?.ms
  const from = at(/^Uploading artifact: /)
  const to = at(/^Artifact .* successfully finalized/)
  return from === undefined || to === undefined ? NaN : to - from
}

// ---------------------------------------------------------------------------------------------
// The runs

export function artifactOf(backend: ArtifactBackend, name: string): { size: number; hash: string } {
  const artifact = backend.artifacts.get(name)
  if (!artifact?.finalized || !(artifact.size > 0)) {
    throw new Error(`artifact ${name} was not uploaded and finalized`)
  }
  return { size: artifact.size, hash: artifact.hash ?? '' }
}

/** The action in artifact mode; the caller removes `work`. */
export async function actionArtifact(
  bench: Bench,
  backend: ArtifactBackend,
  sim: Simulator,
  id: number,
  work: string,
  name: string,
  extra: Record<string, string>
): Promise<ActionResult> {
  const run = await runActionTimed({
    dist: bench.action,
    dir: work,
    measureRss: true,
    timeoutMs: bench.timeoutMs,
    env: backend.env,
    inputs: actionInputs(sim, id, {
      [Inputs.Mode]: 'artifact',
      [Inputs.ArtifactName]: name,
      ...extra
    })
  })
  expectSuccess('The action (artifact mode)', run)
  return run
}
