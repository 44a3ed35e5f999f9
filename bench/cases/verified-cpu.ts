/**
 * Case 10: the verified 1 GiB (plain-MD5 ETag) against the slower of curl and md5sum, in wall time,
 * and against curl + md5sum + `openssl dgst -sha256`, in CPU time, over HTTP and HTTPS; with the
 * floor (bench/floor-ring.ts: only the transfer and both digests, from the receive buffer) and
 * the action on the library path (`DATAFINITI_DIRECT_DOWNLOADS=false`: what the socket reader
 * buys). Every contender alternates within each round; CPU is user + system of every thread.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { NODE } from '../../sim/runner.js'
import { makeThrowawayCa } from '../../sim/throwaway-ca.js'
import { alternate } from '../contenders.js'
import { formatMs, formatRatio, formatSize, median, mib } from '../figures.js'
import { which } from '../machine.js'
import { FLOOR_RING_SCRIPT } from '../floor-ring.js'
import { verifiedAction, verifiedBody, type Expect } from '../md5-verified.js'
import { csvBody, signedUrls, withSimulator } from '../serve.js'
import type { Case } from '../setup.js'
import { baseEnv, expectSuccess, timedSpawn } from '../timed-spawn.js'

const FLOOR_MODES = ['none', 'ring2', 'ring1', 'inline'] as const
const FLOOR_LABEL: Record<(typeof FLOOR_MODES)[number], string> = {
  none: 'floor: transfer only, no digest',
  ring2: 'floor: both digests from the receive buffer, a ring read by two threads (MD5; sha256)',
  ring1: 'floor: the same ring, one thread for both digests',
  inline: 'floor: both digests on the socket thread'
}
const TARGET_WALL = { HTTP: 1.25, HTTPS: 1.35 }
const TARGET_CPU = 1.1

interface Sample {
  ms: number
  cpuMs: number
  rssMiB?: number
}

/**
 * The simulator serves from this process: its CPU while `fn` runs (the harness only waits for
 * the child meanwhile). Over HTTPS it encrypts on the cores the client runs on.
 */
async function withServerCpu(fn: () => Promise<number>, into: number[]): Promise<number> {
  const before = process.cpuUsage()
  const ms = await fn()
  const { user, system } = process.cpuUsage(before)
  into.push((user + system) / 1000)
  return ms
}

/** `sh -c 'COMMAND && times'`: wall time, and the CPU time of the command (the shell's children). */
async function shTimed(bench: Case, command: string, dir: string, env = {}): Promise<Sample> {
  const run = await timedSpawn('sh', ['-c', `${command} && times`], {
    env: { ...baseEnv(dir), ...env },
    cwd: dir,
    timeoutMs: bench.timeoutMs
  })
  expectSuccess(command.split(' ')[0] ?? 'sh', run)
  const [user = '', system = ''] = run.stdout.trim().split('\n').at(-1)?.split(/\s+/) ?? []
  const seconds = (text: string): number => {
    const [, m = '0', s = 'NaN'] = /(\d+)m([\d.]+)s/.exec(text) ?? []
    return Number(m) * 60 + Number(s)
  }
  return { ms: run.ms, cpuMs: (seconds(user) + seconds(system)) * 1000 }
}

export async function verifiedCpu(bench: Case): Promise<void> {
  const curl = bench.curl
  const tools = { md5sum: which('md5sum'), openssl: which('openssl'), sh: which('sh') }
  if (!curl || !tools.md5sum || !tools.openssl || !tools.sh) {
    bench.note('curl, md5sum, openssl or sh missing: case 10 is skipped.')
    return
  }
  bench.log(`\n(10) hashing the body to serve with a plain-MD5 ETag…`)
  const { body, digests } = await verifiedBody(csvBody(bench.sizes.big))
  const size = formatSize(body.size)
  const expect: Expect = { count: 1, bytes: body.size, digests }
  const setup = bench.scratch('verified-cpu-setup')
  try {
    const ca = makeThrowawayCa(setup.dir)
    const floorScript = path.join(setup.dir, 'floor-ring.mjs')
    writeFileSync(floorScript, FLOOR_RING_SCRIPT)
    for (const scheme of ['HTTP', 'HTTPS'] as const) {
      const secure = scheme === 'HTTPS'
      bench.log(`\n(10) one ${size} CSV file with a plain-MD5 ETag, ${scheme}: wall and CPU`)
      const tls = secure ? { tls: { key: ca.key, cert: ca.cert, roles: ['files' as const] } } : {}
      const nodeEnv: Record<string, string> = secure ? { NODE_EXTRA_CA_CERTS: ca.caFile } : {}
      const trust = secure ? `--cacert '${ca.caFile}' ` : ''
      await withSimulator([{ name: 'verified.csv', body }], tls, async (sim, id) => {
        const [url = ''] = await signedUrls(sim, id)
        const samples = new Map<string, Sample[]>()
        const keep = (key: string, sample: Sample): number => {
          samples.set(key, [...(samples.get(key) ?? []), sample])
          return sample.ms
        }
        const action = (key: string, env: Record<string, string>) => async () => {
          const run = await verifiedAction(bench, sim, id, {}, { ...nodeEnv, ...env }, expect)
          const { ms, cpuMs = NaN, rssMiB } = run
          return keep(key, { ms, cpuMs, ...(rssMiB !== undefined ? { rssMiB } : {}) })
        }
        // curl, then md5sum and openssl on the file it wrote (in the page cache, as the action's).
        const byHand = async (): Promise<number> => {
          const work = bench.scratch('curl-md5sum-sha256')
          try {
            const file = path.join(work.dir, 'download.csv')
            const got = await shTimed(bench, `curl -s ${trust}-o '${file}' '${url}'`, work.dir)
            const md5 = await shTimed(bench, `md5sum '${file}' > md5.txt`, work.dir)
            const printed = readFileSync(path.join(work.dir, 'md5.txt'), 'utf8').split(' ')[0]
            if (printed !== digests.md5) throw new Error(`md5sum printed ${printed ?? ''}`)
            keep('md5sum', md5)
            keep(
              'sha256',
              await shTimed(bench, `openssl dgst -sha256 '${file}' >/dev/null`, work.dir)
            )
            return keep('curl', got)
          } finally {
            work.remove()
          }
        }
        const floor = (mode: (typeof FLOOR_MODES)[number]) => async () => {
          const work = bench.scratch(`floor-${mode}`)
          try {
            const file = path.join(work.dir, 'download.csv')
            const command = `'${NODE}' '${floorScript}' '${url}' '${file}' ${mode} > out.json`
            const sample = await shTimed(bench, command, work.dir, nodeEnv)
            const out = JSON.parse(readFileSync(path.join(work.dir, 'out.json'), 'utf8')) as {
              rssMiB: number
              md5?: string
            }
            if (mode !== 'none' && out.md5 !== digests.md5) throw new Error(`floor MD5 ${out.md5}`)
            return keep(`floor-${mode}`, { ...sample, rssMiB: out.rssMiB })
          } finally {
            work.remove()
          }
        }
        const server = new Map<string, number[]>()
        const served = (key: string, fn: () => Promise<number>) => {
          server.set(key, [])
          return [key, () => withServerCpu(fn, server.get(key) ?? [])] as [
            string,
            () => Promise<number>
          ]
        }
        await alternate(
          bench.bigRounds,
          [
            served('action', action('action', {})),
            served('curl', byHand),
            served('library', action('library', { DATAFINITI_DIRECT_DOWNLOADS: 'false' })),
            ...FLOOR_MODES.map(mode => served(`floor-${mode}`, floor(mode)))
          ],
          { beforeRound: () => bench.settle(), onSample: bench.progress }
        )
        report(bench, scheme, size, samples, server)
      })
    }
  } finally {
    setup.remove()
  }
}

function report(
  bench: Case,
  scheme: 'HTTP' | 'HTTPS',
  size: string,
  all: Map<string, Sample[]>,
  server: Map<string, number[]>
) {
  const of = (key: string) => all.get(key) ?? []
  // Each figure is recorded (its samples listed) once, however often the rows below use it.
  const recorded = new Map<string, number>()
  const record = (label: string, values: number[]): number => {
    const known = recorded.get(label)
    if (known !== undefined) return known
    const value = bench.record(label, values)
    recorded.set(label, value)
    return value
  }
  const wall = (key: string, label: string) =>
    record(
      `${scheme} ${label} wall`,
      of(key).map(s => s.ms)
    )
  const cpu = (key: string, label: string) =>
    record(
      `${scheme} ${label} CPU`,
      of(key).map(s => s.cpuMs)
    )
  const rss = (key: string) => median(of(key).map(s => s.rssMiB ?? NaN))
  const action = { ms: wall('action', 'action'), cpu: cpu('action', 'action') }
  const curl = { ms: wall('curl', 'curl'), cpu: cpu('curl', 'curl') }
  const md5 = { ms: wall('md5sum', 'md5sum'), cpu: cpu('md5sum', 'md5sum') }
  const sha = { ms: wall('sha256', 'openssl sha256'), cpu: cpu('sha256', 'openssl sha256') }
  const bar = Math.max(curl.ms, md5.ms)
  const tools = curl.cpu + md5.cpu + sha.cpu
  const x = (figure: number) => formatRatio(figure)
  bench.row({
    what: `${size} CSV, plain-MD5 ETag, ${scheme}: action (files mode, defaults) wall; CPU`,
    figure: `${formatMs(action.ms)}; ${formatMs(action.cpu)}`
  })
  bench.row({
    what: `${scheme}: curl; md5sum; \`openssl dgst -sha256\` (wall; CPU each)`,
    figure: [curl, md5, sha].map(t => `${formatMs(t.ms)}; ${formatMs(t.cpu)}`).join(' / ')
  })
  const ratio = action.ms / bar
  bench.row({
    what: `${scheme}: action / max(curl, md5sum), wall`,
    figure: x(ratio),
    target: `≤ ${TARGET_WALL[scheme].toFixed(2)}×`,
    met: ratio <= TARGET_WALL[scheme]
  })
  const cpuRatio = action.cpu / tools
  bench.row({
    what: `${scheme}: action CPU / (curl + md5sum + openssl sha256 CPU)`,
    figure: x(cpuRatio),
    target: `≤ ${TARGET_CPU.toFixed(2)}×`,
    met: cpuRatio <= TARGET_CPU
  })
  const peak = rss('action')
  bench.row({
    what: `${scheme}: action peak RSS`,
    figure: mib(peak),
    target: '≤ 100 MiB',
    met: peak <= 100
  })
  for (const mode of FLOOR_MODES) {
    const key = `floor-${mode}`
    const f = { ms: wall(key, key), cpu: cpu(key, key) }
    bench.row({
      what: `${scheme}: ${FLOOR_LABEL[mode]}: wall / max(curl, md5sum); CPU / tools' CPU; peak RSS`,
      figure: `${x(f.ms / bar)}; ${x(f.cpu / tools)}; ${mib(rss(key))}`
    })
  }
  // What two cores allow: the client's CPU and the simulator's, spread over every core at once.
  const cores = os.availableParallelism()
  const serverCpu = (key: string) => record(`${scheme} ${key} server CPU`, server.get(key) ?? [])
  const bound = (key: string) => (cpu(key, key) + serverCpu(key)) / cores / bar
  bench.row({
    what: `${scheme}: the simulator's CPU while serving (curl; action; floor with two threads; with one)`,
    figure: ['curl', 'action', 'floor-ring2', 'floor-ring1']
      .map(k => formatMs(serverCpu(k)))
      .join('; ')
  })
  bench.row({
    what: `${scheme}: least wall time ${cores} cores allow, (client + simulator CPU) / ${cores} / max(curl, md5sum): action; floor with two threads; with one`,
    figure: ['action', 'floor-ring2', 'floor-ring1'].map(k => x(bound(k))).join('; ')
  })
  const library = { ms: wall('library', 'library path'), cpu: cpu('library', 'library path') }
  bench.row({
    what: `${scheme}: action on the library path (@actions/http-client bodies) / action: wall; CPU; peak RSS`,
    figure: `${x(library.ms / action.ms)}; ${x(library.cpu / action.cpu)}; ${mib(rss('library'))}`
  })
}
