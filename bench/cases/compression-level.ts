/**
 * Case 9: the `compression-level` trade-off. The action in artifact mode with levels 0, 1, 6 and
 * 9 on CSV and on JSON lines, all alternating within each round: time, artifact size, and the
 * upload speed under which each level's smaller zip pays for its longer zip + upload.
 */
import { jsonLines } from '../../sim/data.js'
import { repeatBody, type FileBody } from '../../sim/simulator.js'
import { actionArtifact, artifactOf, phases, withArtifactBackend } from '../artifact-runs.js'
import { verifyFiles } from '../contenders.js'
import { formatMs, formatSize, median, percent } from '../figures.js'
import { csvBody, REQUEST_ID } from '../serve.js'
import type { Case } from '../setup.js'
import { Inputs } from '../src-imports.js'

const LEVELS = [0, 1, 6, 9] as const

/** About `bytes` of newline-delimited JSON: a ~1 MiB block of `jsonLines` records repeated. */
function jsonBody(bytes: number): FileBody {
  const block = jsonLines(14_000, 7).body
  return repeatBody(Buffer.alloc(0), block, Math.max(1, Math.round(bytes / block.length)))
}

export async function compressionLevels(bench: Case): Promise<void> {
  const { count, size } = bench.sizes.artifact
  const materials = [
    { id: REQUEST_ID, kind: 'CSV', ext: 'csv', body: csvBody(size) },
    { id: REQUEST_ID + 1, kind: 'JSON lines', ext: 'json', body: jsonBody(size) }
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
  await withArtifactBackend(requests, async (backend, sim) => {
    const key = (kind: string, level: number): string => `${kind} ${level}`
    const results = new Map<string, { wall: number[]; upload: number[]; size: number[] }>()
    for (const m of materials) {
      for (const level of LEVELS)
        results.set(key(m.kind, level), { wall: [], upload: [], size: [] })
    }
    // Every material and level once per round, in the same order each round.
    for (let round = 0; round < bench.runs; round++) {
      await bench.settle()
      for (const m of materials) {
        for (const level of LEVELS) {
          const name = `level-${m.ext}-${level}-${round + 1}`
          const work = bench.scratch(`level-${level}`)
          try {
            const run = await actionArtifact(bench, backend, sim, m.id, work.dir, name, {
              [Inputs.CompressionLevel]: String(level)
            })
            verifyFiles(run, count, count * m.body.size)
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
          wall: bench.record(`${label}, whole run`, entry?.wall ?? []),
          upload: bench.record(`${label}, zip + upload`, entry?.upload ?? []),
          size: median(entry?.size ?? [])
        }
      })
      for (const [i, f] of figures.entries()) {
        bench.row({
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
        bench.row({
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
  })
}
