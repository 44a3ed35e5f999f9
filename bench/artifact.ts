/**
 * Artifact-mode measurements of bench/bench.ts (see bench/README.md):
 *
 *   6. artifact mode end to end, split into the action's log groups, and the action's upload phase
 *      against `@actions/artifact`'s `uploadArtifact()` called directly on the same files;
 *   9. the `compression-level` trade-off: time, artifact size and ratio for levels 0, 1, 6 and 9 on
 *      CSV and on JSON lines.
 *
 * Both run the built action against the simulator and the local artifact backend
 * (sim/artifact-backend.ts: the Results service's twirp API in front of Azurite).
 */
import { writeFileSync } from 'node:fs'
import AdmZip from 'adm-zip'
import * as path from 'node:path'
import { startArtifactBackend, type ArtifactBackend } from '../sim/artifact-backend.js'
import { jsonLines } from '../sim/data.js'
import { NODE } from '../sim/runner.js'
import { repeatBody, startSimulator, type FileBody, type Simulator } from '../sim/simulator.js'
import { Inputs, Outputs } from '../src/domain/names.js'
import { Defaults } from '../src/inputs/defaults.js'
import {
  baseEnv,
  expectSuccess,
  formatMs,
  formatSize,
  median,
  runActionTimed,
  timedSpawn,
  type ActionResult,
  type Row,
  type Timed
} from './lib.js'

const MiB = 1024 * 1024
/** action.yml's default `compression-level` (1; `@actions/artifact`'s own is 6). */
const DEFAULT_LEVEL = Defaults.CompressionLevel
const LEVELS = [0, 1, 6, 9] as const

/** What bench.ts lends these measurements: its settings, helpers and table. */
export interface Bench {
  quick: boolean
  runs: number
  /** The snapshot of dist/index.js to run. */
  action: string
  /** The bench's scratch directory (removed at the end). */
  base: string
  timeoutMs: number
  token: string
  rows: Row[]
  log(message: string): void
  /** Before a round: wait for a quiet machine, noted under measurement `n`. */
  settle(n: number): Promise<void>
  /** Notes the samples behind a figure; returns their median. */
  record(
    n: number,
    label: string,
    values: readonly number[],
    format?: (v: number) => string
  ): number
  scratch(label: string): { dir: string; remove(): void }
  /** About `bytes` of the bench's awkward CSV. */
  csvBody(bytes: number): FileBody
  inputs(sim: { apiUrl: string }, id: number, extra: Record<string, string>): Record<string, string>
  verifyFiles(run: ActionResult, count: number, bytes: number): void
}

const sizes = (quick: boolean): { count: number; size: number } =>
  quick ? { count: 4, size: 2 * MiB } : { count: 4, size: 64 * MiB }

const mib = (value: number): string => `${value.toFixed(1)} MiB`
const percent = (value: number): string => `${(100 * value).toFixed(1)}%`

// ---------------------------------------------------------------------------------------------
// Phases: the action's log groups

const PHASES = ['start-up', 'validate', 'wait', 'download', 'upload', 'finish', 'other'] as const
type Phase = (typeof PHASES)[number]
const PHASE_LABEL: Record<Phase, string> = {
  'start-up': 'start-up',
  validate: 'validate',
  wait: 'wait',
  download: 'download',
  upload: 'zip + upload',
  finish: 'finish',
  other: 'other'
}

/** Time in each `::group::` of the log (by arrival of the lines), and before, after and between. */
function phases(run: Timed): Record<Phase, number> {
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
function insideUpload(run: Timed): number {
  const at = (pattern: RegExp): number | undefined =>
    run.lines.find(line => pattern.test(line.text))?.ms
  const from = at(/^Uploading artifact: /)
  const to = at(/^Artifact .* successfully finalized/)
  return from === undefined || to === undefined ? NaN : to - from
}

// ---------------------------------------------------------------------------------------------
// The runs

function artifactOf(backend: ArtifactBackend, name: string): { size: number; hash: string } {
  const artifact = backend.artifacts.get(name)
  if (!artifact?.finalized || !(artifact.size > 0)) {
    throw new Error(`artifact ${name} was not uploaded and finalized`)
  }
  return { size: artifact.size, hash: artifact.hash ?? '' }
}

/** The zip's entries as the backend stored them: name, CRC-32, sizes and time, in zip order. */
async function zipEntries(backend: ArtifactBackend, name: string): Promise<string[]> {
  return new AdmZip(await backend.download(name))
    .getEntries()
    .map(
      e =>
        `${e.entryName} crc ${e.header.crc} size ${e.header.size} ` +
        `zipped ${e.header.compressedSize} time ${e.header.time.getTime()}`
    )
}

/** The action in artifact mode; the caller removes `work`. */
async function actionArtifact(
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
    inputs: bench.inputs(sim, id, {
      [Inputs.Mode]: 'artifact',
      [Inputs.ArtifactName]: name,
      ...extra
    })
  })
  expectSuccess('The action (artifact mode)', run)
  return run
}

/**
 * `@actions/artifact` on its own: imports it (from node_modules, untimed by `ms`), then times
 * `uploadArtifact()` and prints the result and the process's peak RSS as the last line.
 */
const UPLOAD_DIRECT = `const [moduleUrl, name, level, root, ...files] = process.argv.slice(2)
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

interface DirectResult {
  run: Timed
  /** uploadArtifact() alone. */
  ms: number
  importMs: number
  size: number
  rssMiB: number
}

/** The direct upload of the files the action downloaded in `run`, with the env the action had. */
async function uploadDirect(
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

// ---------------------------------------------------------------------------------------------
// 6. Artifact mode end to end, split into the action's log groups; the upload phase against
//    uploadArtifact() called directly on the same files.

export async function artifactMode(bench: Bench): Promise<void> {
  const { count, size } = sizes(bench.quick)
  const files = Array.from({ length: count }, (_, i) => ({
    name: `artifact_${i + 1}.csv`,
    body: bench.csvBody(size)
  }))
  const bytes = files.reduce((sum, file) => sum + file.body.size, 0)
  bench.log(`\n(6) artifact mode, ${count} files, ${formatSize(bytes)} of CSV in all`)
  const script = path.join(bench.base, 'upload-direct.mjs')
  writeFileSync(script, UPLOAD_DIRECT)
  const backend = await startArtifactBackend()
  const sim = await startSimulator({
    token: bench.token,
    requests: [{ id: 6073, pollsUntilComplete: 0, files }]
  }).catch(async (error: unknown) => {
    await backend.stop()
    throw error
  })
  try {
    const walls: number[] = []
    const rss: number[] = []
    const split = new Map<Phase, number[]>(PHASES.map(p => [p, []]))
    const direct = { ms: [] as number[], wall: [] as number[], rss: [] as number[] }
    const inside = { action: [] as number[], direct: [] as number[] }
    const same = { digest: 0, order: 0 }
    for (let round = 0; round < bench.runs; round++) {
      await bench.settle(6)
      const name = `bench-${round + 1}`
      const work = bench.scratch('artifact')
      try {
        // A: the action, whose downloaded files stay for B.
        const run = await actionArtifact(bench, backend, sim, 6073, work.dir, name, {})
        bench.verifyFiles(run, count, bytes)
        const artifact = artifactOf(backend, name)
        walls.push(run.ms)
        if (run.rssMiB !== undefined) rss.push(run.rssMiB)
        const parts = phases(run)
        for (const phase of PHASES) split.get(phase)?.push(parts[phase])
        inside.action.push(insideUpload(run))
        bench.log(
          `  action run ${round + 1}: ${formatMs(run.ms)} (` +
            PHASES.map(p => `${PHASE_LABEL[p]} ${formatMs(parts[p])}`).join(', ') +
            `), zip ${formatSize(artifact.size)}`
        )
        // B: uploadArtifact() on the same files (the 4 files and the manifest), same level.
        const directName = `direct-${round + 1}`
        const result = await uploadDirect(
          script,
          backend,
          run,
          work.dir,
          directName,
          DEFAULT_LEVEL,
          bench.timeoutMs
        )
        const directArtifact = artifactOf(backend, directName)
        if (directArtifact.size !== artifact.size || result.size !== artifact.size) {
          throw new Error(
            `the direct upload made a ${directArtifact.size}-byte artifact, the action ${artifact.size} bytes`
          )
        }
        if (directArtifact.hash === artifact.hash) same.digest++
        // Same entries, perhaps in another order: archiver stats 4 files at a time and adds each
        // as its stat returns, so the order (and so the digest) can differ from zip to zip.
        const [actionEntries, directEntries] = await Promise.all([
          zipEntries(backend, name),
          zipEntries(backend, directName)
        ])
        if ([...actionEntries].sort().join('\n') !== [...directEntries].sort().join('\n')) {
          throw new Error(
            `the direct upload zipped other entries than the action:\n` +
              `${actionEntries.join('\n')}\n---\n${directEntries.join('\n')}`
          )
        }
        if (actionEntries.join('\n') === directEntries.join('\n')) same.order++
        direct.ms.push(result.ms)
        direct.wall.push(result.run.ms)
        direct.rss.push(result.rssMiB)
        inside.direct.push(insideUpload(result.run))
        bench.log(
          `  direct run ${round + 1}: uploadArtifact() ${formatMs(result.ms)}, process ` +
            `${formatMs(result.run.ms)} (import ${formatMs(result.importMs)}), zip ` +
            `${formatSize(directArtifact.size)}, same entries, ` +
            (directArtifact.hash === artifact.hash ? 'same digest' : 'other order and digest')
        )
      } finally {
        work.remove()
      }
    }
    const wall = bench.record(6, 'artifact mode, whole run', walls)
    bench.rows.push({
      n: 6,
      what: `artifact mode, ${count} × ${formatSize(files[0]?.body.size ?? 0)} CSV, no cap: whole run`,
      figure: formatMs(wall)
    })
    for (const phase of PHASES) {
      const ms = bench.record(6, `phase ${PHASE_LABEL[phase]}`, split.get(phase) ?? [])
      bench.rows.push({
        n: 6,
        what: `… ${PHASE_LABEL[phase]}`,
        figure: `${formatMs(ms)} (${((100 * ms) / wall).toFixed(1)}%)`
      })
    }
    if (rss.length) {
      bench.rows.push({
        n: 6,
        what: 'action peak RSS',
        figure: mib(bench.record(6, 'peak RSS', rss, mib))
      })
    }
    const upload = median(split.get('upload') ?? [])
    const call = bench.record(6, 'uploadArtifact() called directly', direct.ms)
    const processWall = bench.record(6, 'direct upload, whole process', direct.wall)
    const overhead = (upload - call) / call
    bench.rows.push({
      n: 6,
      what:
        `\`uploadArtifact()\` called directly on the same ${count} files and manifest ` +
        `(\`compressionLevel: ${DEFAULT_LEVEL}\`, the action’s environment): the call alone`,
      figure: formatMs(call)
    })
    bench.rows.push({
      n: 6,
      what: '… its whole process (node start-up, import of `@actions/artifact` from node_modules)',
      figure: formatMs(processWall)
    })
    bench.rows.push({
      n: 6,
      what:
        '… the zips the backend stored, action and direct, in each round: same size and entries ' +
        '(names, CRC-32, sizes, times); same order; same sha256',
      figure: `${bench.runs} of ${bench.runs}; ${same.order} of ${bench.runs}; ${same.digest} of ${bench.runs}`
    })
    bench.rows.push({
      n: 6,
      what: 'action’s zip + upload phase over the direct call: (action − direct) / direct',
      figure: `${overhead >= 0 ? '+' : ''}${percent(overhead)}`,
      target: '≤ 5%',
      met: overhead <= 0.05
    })
    const actionInside = bench.record(6, 'action, Uploading → finalized', inside.action)
    const directInside = bench.record(6, 'direct, Uploading → finalized', inside.direct)
    bench.rows.push({
      n: 6,
      what:
        '… inside `uploadArtifact()` (its `Uploading artifact` to `… finalized` log lines): ' +
        'action / direct',
      figure: `${formatMs(actionInside)} / ${formatMs(directInside)}`
    })
    bench.rows.push({
      n: 6,
      what: 'direct upload process peak RSS',
      figure: mib(bench.record(6, 'direct upload peak RSS', direct.rss, mib))
    })
  } finally {
    await sim.stop()
    await backend.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// 9. compression-level: time against artifact size, on CSV and on JSON lines.

/** About `bytes` of newline-delimited JSON: a ~1 MiB block of `jsonLines` records repeated. */
function jsonBody(bytes: number): FileBody {
  const block = jsonLines(14_000, 7).body
  return repeatBody(Buffer.alloc(0), block, Math.max(1, Math.round(bytes / block.length)))
}

export async function compressionLevels(bench: Bench): Promise<void> {
  const { count, size } = sizes(bench.quick)
  const materials = [
    { id: 6073, kind: 'CSV', ext: 'csv', body: bench.csvBody(size) },
    { id: 6074, kind: 'JSON lines', ext: 'json', body: jsonBody(size) }
  ]
  const requests = materials.map(m => ({
    id: m.id,
    dataFormat: m.ext === 'csv' ? ('csv' as const) : ('json' as const),
    pollsUntilComplete: 0,
    files: Array.from({ length: count }, (_, i) => ({
      name: `part_${i + 1}.${m.ext}`,
      body: m.body
    }))
  }))
  bench.log(
    `\n(9) compression-level ${LEVELS.join(', ')}, ${count} × ${formatSize(size)} of ` +
      materials.map(m => m.kind).join(' and of ')
  )
  const backend = await startArtifactBackend()
  const sim = await startSimulator({ token: bench.token, requests }).catch(
    async (error: unknown) => {
      await backend.stop()
      throw error
    }
  )
  try {
    const key = (kind: string, level: number): string => `${kind} ${level}`
    const results = new Map<string, { wall: number[]; upload: number[]; size: number[] }>()
    for (const m of materials) {
      for (const level of LEVELS)
        results.set(key(m.kind, level), { wall: [], upload: [], size: [] })
    }
    // Every material and level once per round, in the same order each round.
    for (let round = 0; round < bench.runs; round++) {
      await bench.settle(9)
      for (const m of materials) {
        for (const level of LEVELS) {
          const name = `level-${m.ext}-${level}-${round + 1}`
          const work = bench.scratch(`level-${level}`)
          try {
            const run = await actionArtifact(bench, backend, sim, m.id, work.dir, name, {
              [Inputs.CompressionLevel]: String(level)
            })
            bench.verifyFiles(run, count, count * m.body.size)
            const artifact = artifactOf(backend, name)
            const upload = phases(run).upload
            const entry = results.get(key(m.kind, level))
            entry?.wall.push(run.ms)
            entry?.upload.push(upload)
            entry?.size.push(artifact.size)
            bench.log(
              `  ${m.kind}, level ${level}, run ${round + 1}: ${formatMs(run.ms)}, zip + upload ` +
                `${formatMs(upload)}, zip ${formatSize(artifact.size)}`
            )
          } finally {
            work.remove()
          }
        }
      }
    }
    for (const m of materials) {
      const raw = count * m.body.size
      const figures = LEVELS.map(level => {
        const entry = results.get(key(m.kind, level))
        const label = `${m.kind}, level ${level}`
        return {
          level,
          wall: bench.record(9, `${label}, whole run`, entry?.wall ?? []),
          upload: bench.record(9, `${label}, zip + upload`, entry?.upload ?? []),
          size: median(entry?.size ?? [])
        }
      })
      for (const [i, f] of figures.entries()) {
        bench.rows.push({
          n: 9,
          what:
            (i === 0 ? `${m.kind}, ${count} × ${formatSize(m.body.size)}, ` : '… ') +
            `\`compression-level: ${f.level}\`: whole run; zip + upload; artifact (of raw)`,
          figure:
            `${formatMs(f.wall)}; ${formatMs(f.upload)}; ` +
            `${formatSize(f.size)} (${percent(f.size / raw)})`
        })
      }
      // Where the smaller artifact pays for its longer zip: below this upload speed the bytes
      // saved take longer to send than the extra time spent zipping them here.
      for (const [i, f] of figures.entries()) {
        const lower = figures[i - 1]
        if (!lower) continue
        const extraMs = f.upload - lower.upload
        const savedBytes = lower.size - f.size
        bench.rows.push({
          n: 9,
          what:
            `… level ${f.level} beats ${lower.level} where uploads are slower than ` +
            '(bytes saved ÷ extra zip + upload time)',
          figure:
            extraMs <= 0
              ? 'always (no slower here)'
              : `${(savedBytes / 1e6 / (extraMs / 1000)).toFixed(1)} MB/s`
        })
      }
    }
  } finally {
    await sim.stop()
    await backend.stop()
  }
}
