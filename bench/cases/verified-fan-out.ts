/**
 * Case 8: several files with plain-MD5 ETags under a per-connection cap, each run held to the MD5
 * check of case 7: the action with concurrency 4 against concurrency 1.
 */
import { alternate } from '../contenders.js'
import { formatMs, formatRatio, formatSize } from '../figures.js'
import { verifiedAction, verifiedBody, type Expect } from '../md5-verified.js'
import { csvBody, withSimulator } from '../serve.js'
import type { Case } from '../setup.js'
import { Inputs } from '../src-imports.js'

const MiB = 1024 * 1024
const FANOUT_CAP = 64 * MiB

export async function verifiedFanOut(bench: Case): Promise<void> {
  const { count } = bench.sizes.fanout
  const { body, digests } = await verifiedBody(csvBody(bench.sizes.fanout.size))
  const files = Array.from({ length: count }, (_, i) => ({ name: `verified_${i + 1}.csv`, body }))
  const each = formatSize(body.size)
  const expect: Expect = { count, bytes: body.size * count, digests }
  bench.log(
    `\n(8) ${count} files of ${each} with plain-MD5 ETags, ${formatSize(FANOUT_CAP)}/s per connection`
  )
  await withSimulator(files, { bytesPerSecond: FANOUT_CAP }, async (sim, id) => {
    const connections = { c4: [] as number[], c1: [] as number[] }
    const run = (key: 'c4' | 'c1', concurrency: number) => async () => {
      const result = await verifiedAction(
        bench,
        sim,
        id,
        { [Inputs.Concurrency]: String(concurrency) },
        {},
        expect
      )
      connections[key].push(result.connections)
      return result.ms
    }
    const times = await alternate(
      bench.runs,
      [
        ['c4', run('c4', 4)],
        ['c1', run('c1', 1)]
      ],
      {
        beforeRound: () => bench.settle(),
        onSample: (key, round, ms) =>
          bench.log(
            `  ${key} run ${round + 1}: ${formatMs(ms)}, ${connections[key].at(-1) ?? '?'} connection(s) at most`
          )
      }
    )
    const c4 = bench.record('concurrency 4', times.c4)
    const c1 = bench.record('concurrency 1', times.c1)
    const what = `${count} × ${each} CSV with plain-MD5 ETags, ${formatSize(FANOUT_CAP)}/s per connection`
    bench.row({
      what: `${what}: action, concurrency 4 (${Math.max(...connections.c4)} connections at most), verified by MD5`,
      figure: formatMs(c4)
    })
    bench.row({ what: 'action, concurrency 1', figure: formatMs(c1) })
    bench.row({
      what: 'concurrency 4 / concurrency 1 (ideal 0.25×)',
      figure: formatRatio(c4 / c1),
      target: '≤ 0.28×',
      met: c4 / c1 <= 0.28
    })
  })
}
