/**
 * Case 7: one big CSV file the action must verify by MD5 (bench/md5-verified.ts), over HTTP and
 * over HTTPS with a throw-away CA. Per scheme: the action with its defaults and on one connection,
 * curl, `curl && md5sum` (the same guarantee by hand), and the Node.js floor without and with an
 * MD5 worker; over HTTP also `md5sum` alone, the MD5 floor.
 */
import { writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { NODE } from '../../sim/runner.js'
import { makeThrowawayCa } from '../../sim/throwaway-ca.js'
import { alternate, curlRun, download } from '../contenders.js'
import { formatMs, formatRatio, formatSize, mib } from '../figures.js'
import { which } from '../machine.js'
import { verifiedAction, verifiedBody, type Expect } from '../md5-verified.js'
import { FLOOR_SCRIPT } from '../node-floors.js'
import { csvBody, signedUrls, withSimulator } from '../serve.js'
import type { Case } from '../setup.js'
import { Inputs } from '../src-imports.js'
import { baseEnv, expectSuccess, timedSpawn } from '../timed-spawn.js'

const MiB = 1024 * 1024

type Scheme = 'HTTP' | 'HTTPS'

export async function verifiedLargeFile(bench: Case): Promise<void> {
  const { curl, log } = bench
  const md5sum = which('md5sum')
  const sh = which('sh')
  if (!md5sum || !sh) {
    bench.note('md5sum or sh missing: the `curl && md5sum` and MD5-floor rows of (7) are skipped.')
  }
  log(`\n(7) hashing the body to serve with a plain-MD5 ETag…`)
  const { body, digests } = await verifiedBody(csvBody(bench.sizes.big))
  const size = formatSize(body.size)
  const expect: Expect = { count: 1, bytes: body.size, digests }
  // The CA and the floor script live for the whole measurement, beside the per-run directories.
  const setup = bench.scratch('verified-setup')
  try {
    const floor = path.join(setup.dir, 'floor.mjs')
    writeFileSync(floor, FLOOR_SCRIPT)
    const ca = makeThrowawayCa(setup.dir)
    for (const scheme of ['HTTP', 'HTTPS'] as const satisfies readonly Scheme[]) {
      const secure = scheme === 'HTTPS'
      log(`\n(7) one ${size} CSV file with a plain-MD5 ETag, ${scheme}, no bandwidth cap`)
      const tls = secure ? { tls: { key: ca.key, cert: ca.cert, roles: ['files' as const] } } : {}
      // Node trusts the CA as a runner behind a corporate CA would; curl is told the same CA.
      const nodeEnv: Record<string, string> = secure ? { NODE_EXTRA_CA_CERTS: ca.caFile } : {}
      const curlTrust = secure ? ['--cacert', ca.caFile] : []
      await withSimulator([{ name: 'verified.csv', body }], tls, async (sim, id) => {
        const [url = ''] = await signedUrls(sim, id)
        const rss: number[] = []
        const connections: number[] = []
        const action = (defaults: boolean) => async () => {
          const extra: Record<string, string> = defaults ? {} : { [Inputs.Concurrency]: '1' }
          const run = await verifiedAction(bench, sim, id, extra, nodeEnv, expect)
          if (defaults) {
            if (run.rssMiB !== undefined) rss.push(run.rssMiB)
            connections.push(run.connections)
          }
          return run.ms
        }
        const contenders: [string, () => Promise<number>][] = [
          ['action', action(true)],
          ['action-c1', action(false)],
          [
            'floor',
            async () =>
              (await download(bench, 'floor', NODE, file => [floor, url, file], expect, nodeEnv)).ms
          ],
          [
            'floor-md5',
            async () =>
              (
                await download(
                  bench,
                  'floor-md5',
                  NODE,
                  file => [floor, url, file, 'md5'],
                  { bytes: body.size, md5: digests.md5 },
                  nodeEnv
                )
              ).ms
          ]
        ]
        if (curl) {
          contenders.push([
            'curl',
            async () => (await curlRun(bench, url, body.size, curlTrust)).ms
          ])
        }
        if (curl && md5sum && sh) {
          // What a workflow that wants the same guarantee runs: download, then hash, one after the other.
          const pipeline = 'file=$1; shift; curl -s -o "$file" "$@" && md5sum "$file"'
          contenders.push([
            'curl-md5sum',
            async () =>
              (
                await download(
                  bench,
                  'curl-md5sum',
                  sh,
                  file => ['-c', pipeline, 'sh', file, ...curlTrust, url],
                  { bytes: body.size, md5: digests.md5 }
                )
              ).ms
          ])
        }
        if (curl && md5sum && !secure) {
          // MD5 on one core, of a file just downloaded (so in the page cache, as the action's is):
          // the same over either scheme, so measured once.
          contenders.push([
            'md5sum',
            async () => {
              const work = bench.scratch('md5sum')
              try {
                const file = path.join(work.dir, 'download.csv')
                const options = {
                  env: baseEnv(work.dir),
                  cwd: work.dir,
                  timeoutMs: bench.timeoutMs
                }
                expectSuccess('curl', await timedSpawn(curl, ['-s', '-o', file, url], options))
                const run = await timedSpawn(md5sum, [file], options)
                expectSuccess('md5sum', run)
                if (!run.stdout.startsWith(`${digests.md5} `)) {
                  throw new Error(`md5sum printed ${run.stdout.trim()}, expected ${digests.md5}`)
                }
                return run.ms
              } finally {
                work.remove()
              }
            }
          ])
        }
        const times = await alternate(bench.bigRounds, contenders, {
          beforeRound: () => bench.settle(),
          onSample: (key, round, ms) => log(`  ${scheme} ${key} run ${round + 1}: ${formatMs(ms)}`)
        })
        addRows(bench, scheme, size, body.size, times, rss, connections)
      })
    }
  } finally {
    setup.remove()
  }
}

function addRows(
  bench: Case,
  scheme: Scheme,
  size: string,
  bytes: number,
  times: Record<string, number[]>,
  rss: number[],
  connections: number[]
): void {
  const get = (key: string, label: string): number | undefined =>
    times[key] ? bench.record(`${scheme} ${label}`, times[key]) : undefined
  const action = get('action', 'action (files mode)') ?? NaN
  const single = get('action-c1', 'action, concurrency 1') ?? NaN
  const floor = get('floor', 'Node.js floor') ?? NaN
  const floorMd5 = get('floor-md5', 'Node.js floor + MD5 worker') ?? NaN
  const curl = get('curl', 'curl')
  const pipeline = get('curl-md5sum', 'curl && md5sum')
  const md5sum = get('md5sum', 'md5sum of the file in page cache')
  const most = connections.length ? Math.max(...connections) : NaN
  bench.row({
    what: `${size} CSV with a plain-MD5 ETag, ${scheme}, no cap: action (files mode, defaults; ${most} connection(s) at most), verified by MD5`,
    figure: formatMs(action)
  })
  bench.row({ what: `${scheme}: action, concurrency 1`, figure: formatMs(single) })
  if (curl !== undefined) {
    bench.row({ what: `${scheme}: \`curl -s -o FILE URL\``, figure: formatMs(curl) })
  }
  if (pipeline !== undefined) {
    bench.row({
      what: `${scheme}: \`curl -s -o FILE URL && md5sum FILE\` (the same guarantee by hand)`,
      figure: formatMs(pipeline)
    })
  }
  bench.row({
    what: `${scheme}: Node.js floor (\`${scheme === 'HTTPS' ? 'tls' : 'net'}.connect\`, \`onread\` into one 1 MiB buffer, \`fs.writeSync\` at each offset)`,
    figure: formatMs(floor)
  })
  bench.row({
    what: `${scheme}: Node.js floor + MD5 in a worker thread reading the file back`,
    figure: formatMs(floorMd5)
  })
  if (md5sum !== undefined) {
    bench.row({
      what: 'MD5 floor: `md5sum FILE` of the file just downloaded (in page cache, one core; either scheme)',
      figure: `${formatMs(md5sum)} (${(bytes / MiB / (md5sum / 1000)).toFixed(0)} MiB/s)`
    })
  }
  if (curl !== undefined) {
    const ratio = action / curl
    bench.row({
      what: `${scheme}: action / curl`,
      figure: formatRatio(ratio),
      target: '≤ 1.10×',
      met: ratio <= 1.1
    })
  } else {
    bench.row({ what: `${scheme}: action / curl`, figure: 'skipped: curl not installed' })
  }
  if (pipeline !== undefined) {
    const ratio = action / pipeline
    bench.row({
      what: `${scheme}: action / (curl && md5sum)`,
      figure: formatRatio(ratio),
      target: '≤ 0.65×',
      met: ratio <= 0.65
    })
  }
  if (curl !== undefined) {
    bench.row({
      what: `${scheme}: action, concurrency 1 / curl`,
      figure: formatRatio(single / curl)
    })
    bench.row({ what: `${scheme}: Node.js floor / curl`, figure: formatRatio(floor / curl) })
    bench.row({
      what: `${scheme}: Node.js floor + MD5 / curl`,
      figure: formatRatio(floorMd5 / curl)
    })
  }
  bench.row({
    what: `${scheme}: action / Node.js floor + MD5 (what the action costs beyond the platform)`,
    figure: formatRatio(action / floorMd5)
  })
  const peak = bench.record(`${scheme} action peak RSS`, rss, mib)
  bench.row({
    what: `${scheme}: action peak RSS`,
    figure: rss.length ? `${mib(peak)} (max ${mib(Math.max(...rss))})` : 'n/a',
    target: '≤ 100 MiB',
    ...(rss.length ? { met: peak <= 100 } : {})
  })
}
