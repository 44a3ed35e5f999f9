/**
 * Case 3: many files under the per-connection cap, the action with concurrency 8 against
 * concurrency 1.
 */
import { actionFiles, alternate } from '../contenders.js'
import { formatMs, formatRatio, formatSize } from '../figures.js'
import { csvBody, withSimulator } from '../serve.js'
import type { Case } from '../setup.js'
import { Inputs } from '../src-imports.js'

const MiB = 1024 * 1024

export async function manyFiles(bench: Case): Promise<void> {
  const { count } = bench.sizes.many
  const files = Array.from({ length: count }, (_, i) => ({
    name: `part_${i + 1}.csv`,
    body: csvBody(bench.sizes.many.size)
  }))
  const bytes = files.reduce((sum, file) => sum + file.body.size, 0)
  const each = formatSize(files[0]?.body.size ?? 0)
  bench.log(`\n(3) ${count} files of ${each}, ${bench.capMiBps} MiB/s per connection`)
  await withSimulator(files, { bytesPerSecond: bench.capMiBps * MiB }, async (sim, id) => {
    const run = (concurrency: number) => async () =>
      (
        await actionFiles(
          bench,
          sim,
          id,
          { [Inputs.Concurrency]: String(concurrency) },
          { count, bytes }
        )
      ).ms
    const times = await alternate(
      bench.runs,
      [
        ['c8', run(8)],
        ['c1', run(1)]
      ],
      { beforeRound: () => bench.settle(), onSample: bench.progress }
    )
    const c8 = bench.record('concurrency 8', times.c8)
    const c1 = bench.record('concurrency 1', times.c1)
    const what = `${count} × ${each} CSV, ${bench.capMiBps} MiB/s per connection`
    bench.row({ what: `${what}: action, concurrency 8`, figure: formatMs(c8) })
    bench.row({ what: 'action, concurrency 1', figure: formatMs(c1) })
    bench.row({
      what: 'speed-up (concurrency 1 / concurrency 8)',
      figure: formatRatio(c1 / c8),
      target: '≥ 6×',
      met: c1 / c8 >= 6
    })
  })
}
