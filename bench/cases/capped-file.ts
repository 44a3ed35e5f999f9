/**
 * Case 2: one file under the file host's per-connection cap. The action with concurrency 8
 * against curl (one connection) and aria2c (8 segments).
 */
import { actionFiles, alternate, aria2Run, curlRun } from '../contenders.js'
import { formatMs, formatRatio, formatSize, mib } from '../figures.js'
import { csvBody, signedUrls, withSimulator } from '../serve.js'
import type { Case } from '../setup.js'
import { Inputs } from '../src-imports.js'

const MiB = 1024 * 1024

export async function cappedFile(bench: Case): Promise<void> {
  const body = csvBody(bench.sizes.capped)
  const size = formatSize(body.size)
  bench.log(`\n(2) one ${size} CSV file, ${bench.capMiBps} MiB/s per connection`)
  const cap = { bytesPerSecond: bench.capMiBps * MiB }
  await withSimulator([{ name: 'capped.csv', body }], cap, async (sim, id) => {
    const [url = ''] = await signedUrls(sim, id)
    const rss: number[] = []
    const contenders: [string, () => Promise<number>][] = [
      [
        'action',
        async () => {
          const run = await actionFiles(
            bench,
            sim,
            id,
            { [Inputs.Concurrency]: '8' },
            { count: 1, bytes: body.size }
          )
          if (run.rssMiB !== undefined) rss.push(run.rssMiB)
          return run.ms
        }
      ]
    ]
    if (bench.curl) contenders.push(['curl', async () => (await curlRun(bench, url, body.size)).ms])
    if (bench.aria2c)
      contenders.push(['aria2c', async () => (await aria2Run(bench, url, body.size)).ms])
    const times = await alternate(bench.runs, contenders, {
      beforeRound: () => bench.settle(),
      onSample: bench.progress
    })
    const what = `${size} CSV, ${bench.capMiBps} MiB/s per connection`
    const action = bench.record('action (concurrency 8)', times['action'] ?? [])
    bench.row({ what: `${what}: action (concurrency 8) wall time`, figure: formatMs(action) })
    if (bench.curl) {
      const curlMs = bench.record('curl', times['curl'] ?? [])
      bench.row({ what: '`curl -s -o FILE URL` wall time', figure: formatMs(curlMs) })
      const speedup = curlMs / action
      bench.row({
        what: 'speed-up over curl (curl / action)',
        figure: formatRatio(speedup),
        target: '≥ 5×',
        met: speedup >= 5
      })
    } else {
      bench.row({ what: 'speed-up over curl', figure: 'skipped: curl not installed' })
    }
    if (bench.aria2c) {
      const ariaMs = bench.record('aria2c', times['aria2c'] ?? [])
      bench.row({ what: '`aria2c -x8 -s8 -k1M` wall time', figure: formatMs(ariaMs) })
      const ratio = action / ariaMs
      bench.row({
        what: 'action / aria2c',
        figure: formatRatio(ratio),
        target: '≤ 1.00× (no slower)',
        met: ratio <= 1
      })
    } else {
      bench.row({
        what: 'action / aria2c',
        figure: 'skipped: aria2c not installed (apt-get install aria2)'
      })
    }
    if (rss.length) {
      bench.row({
        what: 'action peak RSS',
        figure: mib(bench.record('action peak RSS', rss, mib))
      })
    }
  })
}
