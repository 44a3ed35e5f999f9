/**
 * Case 5: start-up, from just before spawn() to the action's first API request (seen by a
 * pass-through proxy in front of the simulator), against `node -e ''` from spawn to exit.
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import * as path from 'node:path'
import { NODE, ROOT } from '../../sim/runner.js'
import { alternate } from '../contenders.js'
import { formatMs } from '../figures.js'
import { actionInputs, csvBody, withSimulator } from '../serve.js'
import type { Case } from '../setup.js'
import { Inputs, Outputs } from '../src-imports.js'
import { baseEnv, expectSuccess, runActionTimed, timedSpawn } from '../timed-spawn.js'

export async function startup(bench: Case): Promise<void> {
  bench.log(`\n(5) start-up, urls mode`)
  await withSimulator([{ name: 'one.csv', body: csvBody(1) }], {}, async (sim, id) => {
    // A pass-through proxy in front of the simulator that notes when the first request arrives.
    const arrivals: number[] = []
    const target = new URL(sim.apiUrl)
    const proxy = http.createServer((req, res) => {
      arrivals.push(performance.now())
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers
        },
        answer => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        }
      )
      upstream.on('error', () => res.destroy())
      req.pipe(upstream)
    })
    await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    // Evaluating undici, which files and urls modes never use, in a bare node: the most that
    // undici-lazy.cjs can spare a run (in the bundle it is already read and parsed with the rest).
    const undici = path.join(ROOT, 'node_modules', 'undici', 'index.js')
    const bare = (key: string, script: string) => async (): Promise<number> => {
      const work = bench.scratch(key)
      try {
        const run = await timedSpawn(NODE, ['-e', script], {
          env: baseEnv(work.dir),
          cwd: work.dir,
          timeoutMs: 60_000
        })
        expectSuccess(`node -e ${JSON.stringify(script)}`, run)
        return run.ms
      } finally {
        work.remove()
      }
    }
    try {
      const toFirst: number[] = []
      const times = await alternate(
        bench.startupRounds,
        [
          ['node', bare('node', '')],
          ['undici', bare('undici', `require(${JSON.stringify(undici)})`)],
          [
            'action',
            async () => {
              const work = bench.scratch('urls')
              try {
                arrivals.length = 0
                const run = await runActionTimed({
                  dist: bench.action,
                  dir: work.dir,
                  timeoutMs: 60_000,
                  inputs: actionInputs({ apiUrl: proxyUrl }, id, { [Inputs.Mode]: 'urls' })
                })
                expectSuccess('The action (urls mode)', run)
                const urls = JSON.parse(run.outputs[Outputs.Urls] ?? '[]') as string[]
                if (urls.length !== 1) throw new Error(`urls output has ${urls.length} URL(s)`)
                const first = arrivals[0]
                if (first === undefined) throw new Error('no request reached the simulator')
                toFirst.push(first - run.startedAt)
                return run.ms
              } finally {
                work.remove()
              }
            }
          ]
        ],
        {
          beforeRound: () => bench.settle(),
          onSample: (key, round, ms) =>
            bench.log(
              `  ${key} run ${round + 1}: ${formatMs(ms)}` +
                (key === 'action' ? `, first request at ${formatMs(toFirst.at(-1) ?? NaN)}` : '')
            )
        }
      )
      const node = bench.record("node -e ''", times.node)
      const firstMs = bench.record('action, start to first API request', toFirst)
      const whole = bench.record('action, urls mode, whole run', times.action)
      bench.row({ what: "`node -e ''`, start to exit", figure: formatMs(node) })
      bench.row({ what: 'action: start to first API request', figure: formatMs(firstMs) })
      bench.row({
        what: "first request − `node -e ''`",
        figure: formatMs(firstMs - node),
        target: '< 150 ms',
        met: firstMs - node < 150
      })
      bench.row({ what: 'action: whole urls-mode run, 1 file', figure: formatMs(whole) })
      const eager = bench.record("node -e 'require(undici)'", times.undici)
      bench.row({
        what: "evaluating undici, at most what its lazy loading spares a run: `node -e 'require(undici)'` − `node -e ''`",
        figure: `${formatMs(eager - node)} (${((100 * (eager - node)) / whole).toFixed(0)}% of the urls-mode run)`
      })
    } finally {
      proxy.closeAllConnections()
      await new Promise(resolve => proxy.close(resolve))
    }
  })
}
