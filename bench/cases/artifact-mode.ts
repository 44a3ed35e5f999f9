/**
 * Case 6: artifact mode end to end, split into the action's log groups; then, in the same round,
 * the action's zip + upload phase against `uploadArtifact()` called directly on the same files,
 * with the zips the backend stored held to the same entries.
 */
import { writeFileSync } from 'node:fs'
import * as path from 'node:path'
import AdmZip from 'adm-zip'
import type { ArtifactBackend } from '../../sim/artifact-backend.js'
import {
  actionArtifact,
  artifactOf,
  insideUpload,
  PHASE_LABEL,
  PHASES,
  phases,
  withArtifactBackend,
  type Phase
} from '../artifact-runs.js'
import { verifyFiles } from '../contenders.js'
import { formatMs, formatSize, median, mib, percent } from '../figures.js'
import { csvBody, REQUEST_ID } from '../serve.js'
import type { Case } from '../setup.js'
import { UPLOAD_DIRECT, uploadDirect } from '../upload-direct.js'
import { Defaults } from '../src-imports.js'

/** action.yml's default `compression-level` (1; `@actions/artifact`'s own is 6). */
const DEFAULT_LEVEL = Defaults.CompressionLevel

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

export async function artifactMode(bench: Case): Promise<void> {
  const { count, size } = bench.sizes.artifact
  const files = Array.from({ length: count }, (_, i) => ({
    name: `artifact_${i + 1}.csv`,
    body: csvBody(size)
  }))
  const bytes = files.reduce((sum, file) => sum + file.body.size, 0)
  bench.log(`\n(6) artifact mode, ${count} files, ${formatSize(bytes)} of CSV in all`)
  const script = path.join(bench.base, 'upload-direct.mjs')
  writeFileSync(script, UPLOAD_DIRECT)
  const requests = [{ id: REQUEST_ID, pollsUntilComplete: 0, files }]
  await withArtifactBackend(requests, async (backend, sim) => {
    const walls: number[] = []
    const rss: number[] = []
    const split = new Map<Phase, number[]>(PHASES.map(p => [p, []]))
    const direct = { ms: [] as number[], wall: [] as number[], rss: [] as number[] }
    const inside = { action: [] as number[], direct: [] as number[] }
    const same = { digest: 0, order: 0 }
    for (let round = 0; round < bench.runs; round++) {
      await bench.settle()
      const name = `bench-${round + 1}`
      const work = bench.scratch('artifact')
      try {
        // A: the action, whose downloaded files stay for B.
        const run = await actionArtifact(bench, backend, sim, REQUEST_ID, work.dir, name, {})
        verifyFiles(run, count, bytes)
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
    const wall = bench.record('artifact mode, whole run', walls)
    bench.row({
      what: `artifact mode, ${count} × ${formatSize(files[0]?.body.size ?? 0)} CSV, no cap: whole run`,
      figure: formatMs(wall)
    })
    for (const phase of PHASES) {
      const ms = bench.record(`phase ${PHASE_LABEL[phase]}`, split.get(phase) ?? [])
      bench.row({
        what: `… ${PHASE_LABEL[phase]}`,
        figure: `${formatMs(ms)} (${((100 * ms) / wall).toFixed(1)}%)`
      })
    }
    if (rss.length) {
      bench.row({ what: 'action peak RSS', figure: mib(bench.record('peak RSS', rss, mib)) })
    }
    const upload = median(split.get('upload') ?? [])
    const call = bench.record('uploadArtifact() called directly', direct.ms)
    const processWall = bench.record('direct upload, whole process', direct.wall)
    const overhead = (upload - call) / call
    bench.row({
      what:
        `\`uploadArtifact()\` called directly on the same ${count} files and manifest ` +
        `(\`compressionLevel: ${DEFAULT_LEVEL}\`, the action’s environment): the call alone`,
      figure: formatMs(call)
    })
    bench.row({
      what: '… its whole process (node start-up, import of `@actions/artifact` from node_modules)',
      figure: formatMs(processWall)
    })
    bench.row({
      what:
        '… the zips the backend stored, action and direct, in each round: same size and entries ' +
        '(names, CRC-32, sizes, times); same order; same sha256',
      figure: `${bench.runs} of ${bench.runs}; ${same.order} of ${bench.runs}; ${same.digest} of ${bench.runs}`
    })
    bench.row({
      what: 'action’s zip + upload phase over the direct call: (action − direct) / direct',
      figure: `${overhead >= 0 ? '+' : ''}${percent(overhead)}`,
      target: '≤ 5%',
      met: overhead <= 0.05
    })
    const actionInside = bench.record('action, Uploading → finalized', inside.action)
    const directInside = bench.record('direct, Uploading → finalized', inside.direct)
    bench.row({
      what:
        '… inside `uploadArtifact()` (its `Uploading artifact` to `… finalized` log lines): ' +
        'action / direct',
      figure: `${formatMs(actionInside)} / ${formatMs(directInside)}`
    })
    bench.row({
      what: 'direct upload process peak RSS',
      figure: mib(bench.record('direct upload peak RSS', direct.rss, mib))
    })
  })
}
