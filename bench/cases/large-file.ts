/**
 * Case 1: one big CSV file, no bandwidth cap. The action with its defaults against curl, with the
 * action on one connection and the Node.js floors (one connection, and 4 ranges as the action's
 * default count) to show where the time goes; and the action's peak RSS.
 */
import { actionFiles, alternate, curlRun, minimalNodeRun, minimalRangesRun } from '../contenders.js'
import { formatMs, formatRatio, formatSize, mib } from '../figures.js'
import { csvBody, signedUrls, withSimulator } from '../serve.js'
import type { Case } from '../setup.js'
import { Inputs } from '../src-imports.js'

export async function largeFile(bench: Case): Promise<void> {
  const body = csvBody(bench.sizes.big)
  const size = formatSize(body.size)
  bench.log(`\n(1) one ${size} CSV file, no bandwidth cap`)
  await withSimulator([{ name: 'big.csv', body }], {}, async (sim, id) => {
    const [url = ''] = await signedUrls(sim, id)
    const rss: number[] = []
    const contenders: [string, () => Promise<number>][] = [
      [
        'action',
        async () => {
          const run = await actionFiles(bench, sim, id, {}, { count: 1, bytes: body.size })
          if (run.rssMiB !== undefined) rss.push(run.rssMiB)
          return run.ms
        }
      ],
      [
        'action-c1',
        async () =>
          (
            await actionFiles(
              bench,
              sim,
              id,
              { [Inputs.Concurrency]: '1' },
              { count: 1, bytes: body.size }
            )
          ).ms
      ],
      ['node', async () => (await minimalNodeRun(bench, url, body.size)).ms],
      ['node-ranges', async () => (await minimalRangesRun(bench, url, body.size, 4)).ms]
    ]
    if (bench.curl) contenders.push(['curl', async () => (await curlRun(bench, url, body.size)).ms])
    const times = await alternate(bench.bigRounds, contenders, {
      beforeRound: () => bench.settle(),
      onSample: bench.progress
    })
    const action = bench.record('action (files mode)', times['action'] ?? [])
    const single = bench.record('action, concurrency 1', times['action-c1'] ?? [])
    const minimal = bench.record('minimal Node.js download', times['node'] ?? [])
    const minimalRanges = bench.record('minimal Node.js, 4 ranges', times['node-ranges'] ?? [])
    bench.row({
      what: `${size} CSV, no cap: action (files mode, defaults: 4 connections) wall time`,
      figure: formatMs(action)
    })
    bench.row({
      what: 'action, concurrency 1 (one connection, no ranges)',
      figure: formatMs(single)
    })
    bench.row({
      what: 'minimal Node.js download (`http.get`, `fs.writeSync` per chunk, nothing else)',
      figure: formatMs(minimal)
    })
    bench.row({
      what: 'minimal Node.js download over 4 byte ranges at once (the action’s default count)',
      figure: formatMs(minimalRanges)
    })
    if (bench.curl) {
      const curlMs = bench.record('curl', times['curl'] ?? [])
      const ratio = action / curlMs
      bench.row({ what: '`curl -s -o FILE URL` wall time', figure: formatMs(curlMs) })
      bench.row({
        what: 'action / curl',
        figure: formatRatio(ratio),
        target: '≤ 1.10×',
        met: ratio <= 1.1
      })
      bench.row({ what: 'action, concurrency 1 / curl', figure: formatRatio(single / curlMs) })
      bench.row({ what: 'minimal Node.js / curl', figure: formatRatio(minimal / curlMs) })
      bench.row({
        what: 'minimal Node.js, 4 ranges / curl',
        figure: formatRatio(minimalRanges / curlMs)
      })
    } else {
      bench.row({ what: 'action / curl', figure: 'skipped: curl not installed' })
    }
    bench.row({
      what: 'action / minimal Node.js, 4 ranges (same connections; the rest is counting, checks, start-up)',
      figure: formatRatio(action / minimalRanges)
    })
    bench.row({
      what: 'action, concurrency 1 / minimal Node.js (one connection each)',
      figure: formatRatio(single / minimal)
    })
    const peak = bench.record('action peak RSS', rss, mib)
    bench.row({
      what: 'action peak RSS',
      figure: rss.length ? `${mib(peak)} (max ${mib(Math.max(...rss))})` : 'n/a',
      target: '≤ 100 MiB',
      ...(rss.length ? { met: peak <= 100 } : {})
    })
  })
}
