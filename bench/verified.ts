/**
 * Measurements 7 and 8 of `npm run bench` (registered in bench/bench.ts): downloads the action must
 * verify by MD5, because the file host sends a plain-MD5 ETag. The other measurements serve
 * `repeatBody` files, whose multipart-style ETag is no MD5: the action never hashes them, so they
 * leave out the cost that real single-part S3 objects carry. Here that cost is measured, next to
 * curl, `curl && md5sum`, and the least a Node.js client can do, over HTTP and HTTPS.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { NODE } from '../sim/runner.js'
import { startSimulator, type FileBody, type SimOptions, type Simulator } from '../sim/simulator.js'
import { Inputs, Outputs } from '../src/domain/names.js'
import type { Manifest } from '../src/report/manifest.js'
import { alternate } from './contenders.js'
import { formatMs, formatRatio, formatSize, mib, type Row } from './figures.js'
import { which } from './machine.js'
import {
  baseEnv,
  expectSuccess,
  runActionTimed,
  timedSpawn,
  type ActionResult,
  type Timed
} from './timed-spawn.js'
import { makeThrowawayCa } from '../sim/throwaway-ca.js'

const MiB = 1024 * 1024

/** What bench.ts lends these measurements: its sizes, rounds, scratch space and table. */
export interface VerifiedContext {
  sizes: { big: number; fanout: { count: number; size: number } }
  /** Rounds of the 1 GiB measurements (at least 5 in a full run), and of the others. */
  bigRounds: number
  runs: number
  /** The snapshot of dist/index.js to run. */
  action: string
  curl: string | undefined
  timeoutMs: number
  token: string
  csvBody: (bytes: number) => FileBody
  signedUrls: (sim: Simulator, id: number) => Promise<string[]>
  actionInputs: (
    sim: { apiUrl: string },
    id: number,
    extra: Record<string, string>
  ) => Record<string, string>
  nextScratch: (label: string) => { dir: string; remove(): void }
  settle: (n: number) => Promise<void>
  record: (n: number, label: string, values: readonly number[], format?: typeof formatMs) => number
  rows: Row[]
  notes: string[]
  log: (message: string) => void
}

// ---------------------------------------------------------------------------------------------
// Verified bodies, TLS, the simulator

interface Digests {
  md5: string
  sha256: string
}

/**
 * `body` with its real MD5 set, so that the file host sends it as a plain ETag, and its sha256
 * (to hold the action's manifest to). Hashed by streaming it once: a GiB is never in memory.
 */
async function verifiedBody(body: FileBody): Promise<{ body: FileBody; digests: Digests }> {
  const md5 = createHash('md5')
  const sha256 = createHash('sha256')
  for await (const chunk of body.stream(0, body.size) as AsyncIterable<Buffer>) {
    md5.update(chunk)
    sha256.update(chunk)
  }
  const digests = { md5: md5.digest('hex'), sha256: sha256.digest('hex') }
  return { body: { ...body, md5: digests.md5 }, digests }
}

async function withSimulator<T>(
  ctx: VerifiedContext,
  files: { name: string; body: FileBody }[],
  options: Pick<SimOptions, 'bytesPerSecond' | 'tls'>,
  fn: (sim: Simulator, id: number) => Promise<T>
): Promise<T> {
  const id = 6074
  const sim = await startSimulator({
    token: ctx.token,
    ...options,
    requests: [{ id, pollsUntilComplete: 0, files }]
  })
  try {
    return await fn(sim, id)
  } finally {
    await sim.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// Contenders

interface Expect {
  count: number
  bytes: number
  /** Every file's content is the same body here, so one digest stands for all. */
  digests: Digests
}

/**
 * Holds a finished action run to what this measurement is for: the files it lists hold the bytes
 * (as verifyFiles in bench.ts checks), and its manifest says each was checked by MD5, with the
 * sha256 of the body served. A run that fell back to a length check fails the bench.
 */
function expectMd5Verified(run: ActionResult, expect: Expect): void {
  const files = JSON.parse(run.outputs[Outputs.Files] ?? '[]') as string[]
  const written = files.reduce((sum, file) => sum + statSync(file).size, 0)
  if (files.length !== expect.count || written !== expect.bytes) {
    throw new Error(
      `The action wrote ${files.length} file(s), ${written} bytes; expected ${expect.count}, ${expect.bytes} bytes`
    )
  }
  const manifestPath = run.outputs[Outputs.Manifest] ?? ''
  if (manifestPath === '' || !existsSync(manifestPath)) {
    throw new Error(`The action's manifest output (${manifestPath || 'empty'}) names no file`)
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest
  const wrong = manifest.files.filter(
    file => file.integrity !== 'md5' || file.sha256 !== expect.digests.sha256
  )
  if (manifest.files.length !== expect.count || wrong.length > 0) {
    throw new Error(
      `The action's manifest lists ${manifest.files.length} file(s), expected ${expect.count}; ` +
        `not verified by MD5 or with the wrong sha256: ${
          wrong.map(file => `${file.name} (${file.integrity})`).join(', ') || 'none'
        }`
    )
  }
}

/** The action in files mode, held to an MD5 check; its work directory is removed before this returns. */
async function verifiedAction(
  ctx: VerifiedContext,
  sim: Simulator,
  id: number,
  extra: Record<string, string>,
  env: Record<string, string>,
  expect: Expect
): Promise<ActionResult & { connections: number }> {
  const work = ctx.nextScratch('action')
  // The most file responses in progress at once, sampled: the simulator's own maximum also counts
  // the instant a keep-alive connection's next request arrives before the last response's 'close'.
  let most = 0
  const sampler = setInterval(() => (most = Math.max(most, sim.fileConnections.now)), 10)
  try {
    const run = await runActionTimed({
      dist: ctx.action,
      dir: work.dir,
      measureRss: true,
      timeoutMs: ctx.timeoutMs,
      env,
      inputs: ctx.actionInputs(sim, id, { [Inputs.Mode]: 'files', ...extra })
    })
    expectSuccess('The action', run)
    expectMd5Verified(run, expect)
    return { ...run, connections: most }
  } finally {
    clearInterval(sampler)
    work.remove()
  }
}

/**
 * Runs a downloader that writes FILE in a fresh directory; checks its exit, the size written and,
 * when `md5` is set, that its stdout starts with that MD5 (as `md5sum` prints it).
 */
async function download(
  ctx: VerifiedContext,
  name: string,
  command: string,
  args: (file: string) => string[],
  env: Record<string, string>,
  expect: { bytes: number; md5?: string }
): Promise<Timed> {
  const work = ctx.nextScratch(name)
  try {
    const file = path.join(work.dir, 'download.csv')
    const run = await timedSpawn(command, args(file), {
      env: { ...baseEnv(work.dir), ...env },
      cwd: work.dir,
      timeoutMs: ctx.timeoutMs
    })
    expectSuccess(name, run)
    const written = existsSync(file) ? statSync(file).size : -1
    if (written !== expect.bytes) {
      throw new Error(`${name} wrote ${written} bytes, expected ${expect.bytes}`)
    }
    const printed = run.stdout.split(/\s/, 1)[0]
    if (expect.md5 !== undefined && printed !== expect.md5) {
      throw new Error(`${name} printed MD5 ${printed ?? 'nothing'}, expected ${expect.md5}`)
    }
    return run
  } finally {
    work.remove()
  }
}

/**
 * The least a Node.js client can do, as an .mjs file (so that it can start itself as a worker):
 * `net.connect` / `tls.connect` with `onread` into one reused 1 MiB buffer, a hand-written GET, the
 * response head parsed, and each chunk written with `fs.writeSync` at its offset. No streams, no
 * HTTP parser, no checks beyond the status and the length. With `md5` as third argument, a worker
 * thread reads the file back from the page cache as it grows and hashes it, and the MD5 must match
 * the ETag: the floor of a verified download on this platform. Plain JavaScript, no template
 * literals: it is kept here as a String.raw text.
 */
const FLOOR_SCRIPT = String.raw`// Written by bench/verified.ts: the floor of a Node.js download (see there).
import { createHash } from 'node:crypto'
import { closeSync, openSync, readSync, writeSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'

const MiB = 1 << 20

function fail(message) {
  process.stderr.write('floor: ' + message + '\n')
  process.exit(1)
}

function download() {
  const [url, file, mode] = process.argv.slice(2)
  const target = new URL(url)
  const fd = openSync(file, 'w')
  // [0] bytes on disk, [1] the body's length (-1 until the head is read): shared with the hasher.
  const shared = mode === 'md5' ? new BigInt64Array(new SharedArrayBuffer(16)) : undefined
  if (shared) shared[1] = -1n
  const hasher = shared && new Worker(new URL(import.meta.url), { workerData: { file, shared } })
  let head = Buffer.alloc(0)
  let total = -1
  let written = 0
  let told = 0
  let etag
  const onRead = (n, buffer) => {
    let body = buffer.subarray(0, n)
    if (total < 0) {
      head = Buffer.concat([head, body])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      const text = head.subarray(0, end).toString('latin1')
      if (!/^HTTP\/1\.[01] 200 /.test(text)) fail(text.split('\r\n')[0])
      const length = /\r\ncontent-length: *(\d+)/i.exec(text)
      if (!length) fail('no Content-Length')
      etag = /\r\netag: *"?([0-9a-f]{32})"?\r?$/im.exec(text)?.[1]
      total = Number(length[1])
      if (shared) Atomics.store(shared, 1, BigInt(total))
      body = head.subarray(end + 4)
    }
    if (body.length > 0) written += writeSync(fd, body, 0, body.length, written)
    // Wake the hasher per MiB, not per chunk (TLS hands over 16 KiB records).
    if (shared && (written - told >= MiB || written >= total)) {
      Atomics.store(shared, 0, BigInt(written))
      Atomics.notify(shared, 0)
      told = written
    }
    if (written < total) return
    socket.destroy()
    closeSync(fd)
    hasher?.once('message', md5 => {
      if (md5 !== etag) fail('MD5 ' + md5 + ' but the ETag says ' + etag)
      process.stdout.write(md5 + '  ' + file + '\n')
    })
  }
  const secure = target.protocol === 'https:'
  const socket = (secure ? tlsConnect : netConnect)({
    host: target.hostname,
    port: Number(target.port) || (secure ? 443 : 80),
    onread: { buffer: Buffer.allocUnsafe(MiB), callback: onRead }
  })
  socket.on('error', error => fail(error.message))
  socket.on('end', () => {
    if (total < 0 || written < total) fail('the connection ended after ' + written + ' bytes')
  })
  const request = 'GET ' + target.pathname + target.search + ' HTTP/1.1\r\n'
  socket.write(request + 'Host: ' + target.host + '\r\nConnection: close\r\n\r\n')
}

function hash() {
  const { file, shared } = workerData
  const fd = openSync(file, 'r')
  const md5 = createHash('md5')
  const buffer = Buffer.allocUnsafe(MiB)
  let at = 0
  for (;;) {
    const ready = Number(Atomics.load(shared, 0))
    while (at < ready) {
      const n = readSync(fd, buffer, 0, Math.min(MiB, ready - at), at)
      md5.update(buffer.subarray(0, n))
      at += n
    }
    const total = Atomics.load(shared, 1)
    if (total >= 0n && at >= Number(total)) break
    Atomics.wait(shared, 0, BigInt(ready))
  }
  closeSync(fd)
  parentPort.postMessage(md5.digest('hex'))
}

if (isMainThread) download()
else hash()
`

// ---------------------------------------------------------------------------------------------
// 7. One big file with a plain-MD5 ETag, over HTTP and over HTTPS.

type Scheme = 'HTTP' | 'HTTPS'

export async function verifiedLargeFile(ctx: VerifiedContext): Promise<void> {
  const { curl, log } = ctx
  const md5sum = which('md5sum')
  const sh = which('sh')
  if (!md5sum || !sh) {
    ctx.notes.push(
      'md5sum or sh missing: the `curl && md5sum` and MD5-floor rows of (7) are skipped.'
    )
  }
  log(`\n(7) hashing the body to serve with a plain-MD5 ETag…`)
  const { body, digests } = await verifiedBody(ctx.csvBody(ctx.sizes.big))
  const size = formatSize(body.size)
  const expect: Expect = { count: 1, bytes: body.size, digests }
  // The CA and the floor script live for the whole measurement, beside the per-run directories.
  const setup = ctx.nextScratch('verified-setup')
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
      await withSimulator(ctx, [{ name: 'verified.csv', body }], tls, async (sim, id) => {
        const [url = ''] = await ctx.signedUrls(sim, id)
        const rss: number[] = []
        const connections: number[] = []
        const action = (defaults: boolean) => async () => {
          const extra: Record<string, string> = defaults ? {} : { [Inputs.Concurrency]: '1' }
          const run = await verifiedAction(ctx, sim, id, extra, nodeEnv, expect)
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
              (await download(ctx, 'floor', NODE, file => [floor, url, file], nodeEnv, expect)).ms
          ],
          [
            'floor-md5',
            async () =>
              (
                await download(ctx, 'floor-md5', NODE, file => [floor, url, file, 'md5'], nodeEnv, {
                  bytes: body.size,
                  md5: digests.md5
                })
              ).ms
          ]
        ]
        if (curl) {
          contenders.push([
            'curl',
            async () =>
              (
                await download(
                  ctx,
                  'curl',
                  curl,
                  file => ['-s', ...curlTrust, '-o', file, url],
                  {},
                  expect
                )
              ).ms
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
                  ctx,
                  'curl-md5sum',
                  sh,
                  file => ['-c', pipeline, 'sh', file, ...curlTrust, url],
                  {},
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
              const work = ctx.nextScratch('md5sum')
              try {
                const file = path.join(work.dir, 'download.csv')
                const options = { env: baseEnv(work.dir), cwd: work.dir, timeoutMs: ctx.timeoutMs }
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
        const times = await alternate(ctx.bigRounds, contenders, {
          beforeRound: () => ctx.settle(7),
          onSample: (key, round, ms) => log(`  ${scheme} ${key} run ${round + 1}: ${formatMs(ms)}`)
        })
        rows7(ctx, scheme, size, body.size, times, rss, connections)
      })
    }
  } finally {
    setup.remove()
  }
}

function rows7(
  ctx: VerifiedContext,
  scheme: Scheme,
  size: string,
  bytes: number,
  times: Record<string, number[]>,
  rss: number[],
  connections: number[]
): void {
  const { rows } = ctx
  const n = 7
  const get = (key: string, label: string): number | undefined =>
    times[key] ? ctx.record(n, `${scheme} ${label}`, times[key]) : undefined
  const action = get('action', 'action (files mode)') ?? NaN
  const single = get('action-c1', 'action, concurrency 1') ?? NaN
  const floor = get('floor', 'Node.js floor') ?? NaN
  const floorMd5 = get('floor-md5', 'Node.js floor + MD5 worker') ?? NaN
  const curl = get('curl', 'curl')
  const pipeline = get('curl-md5sum', 'curl && md5sum')
  const md5sum = get('md5sum', 'md5sum of the file in page cache')
  const most = connections.length ? Math.max(...connections) : NaN
  rows.push({
    n,
    what: `${size} CSV with a plain-MD5 ETag, ${scheme}, no cap: action (files mode, defaults; ${most} connection(s) at most), verified by MD5`,
    figure: formatMs(action)
  })
  rows.push({ n, what: `${scheme}: action, concurrency 1`, figure: formatMs(single) })
  if (curl !== undefined) {
    rows.push({ n, what: `${scheme}: \`curl -s -o FILE URL\``, figure: formatMs(curl) })
  }
  if (pipeline !== undefined) {
    rows.push({
      n,
      what: `${scheme}: \`curl -s -o FILE URL && md5sum FILE\` (the same guarantee by hand)`,
      figure: formatMs(pipeline)
    })
  }
  rows.push({
    n,
    what: `${scheme}: Node.js floor (\`${scheme === 'HTTPS' ? 'tls' : 'net'}.connect\`, \`onread\` into one 1 MiB buffer, \`fs.writeSync\` at each offset)`,
    figure: formatMs(floor)
  })
  rows.push({
    n,
    what: `${scheme}: Node.js floor + MD5 in a worker thread reading the file back`,
    figure: formatMs(floorMd5)
  })
  if (md5sum !== undefined) {
    rows.push({
      n,
      what: 'MD5 floor: `md5sum FILE` of the file just downloaded (in page cache, one core; either scheme)',
      figure: `${formatMs(md5sum)} (${(bytes / MiB / (md5sum / 1000)).toFixed(0)} MiB/s)`
    })
  }
  if (curl !== undefined) {
    const ratio = action / curl
    rows.push({
      n,
      what: `${scheme}: action / curl`,
      figure: formatRatio(ratio),
      target: '≤ 1.10×',
      met: ratio <= 1.1
    })
  } else {
    rows.push({ n, what: `${scheme}: action / curl`, figure: 'skipped: curl not installed' })
  }
  if (pipeline !== undefined) {
    const ratio = action / pipeline
    rows.push({
      n,
      what: `${scheme}: action / (curl && md5sum)`,
      figure: formatRatio(ratio),
      target: '≤ 0.65×',
      met: ratio <= 0.65
    })
  }
  if (curl !== undefined) {
    rows.push({
      n,
      what: `${scheme}: action, concurrency 1 / curl`,
      figure: formatRatio(single / curl)
    })
    rows.push({ n, what: `${scheme}: Node.js floor / curl`, figure: formatRatio(floor / curl) })
    rows.push({
      n,
      what: `${scheme}: Node.js floor + MD5 / curl`,
      figure: formatRatio(floorMd5 / curl)
    })
  }
  rows.push({
    n,
    what: `${scheme}: action / Node.js floor + MD5 (what the action costs beyond the platform)`,
    figure: formatRatio(action / floorMd5)
  })
  const peak = ctx.record(n, `${scheme} action peak RSS`, rss, mib)
  rows.push({
    n,
    what: `${scheme}: action peak RSS`,
    figure: rss.length ? `${mib(peak)} (max ${mib(Math.max(...rss))})` : 'n/a',
    target: '≤ 100 MiB',
    ...(rss.length ? { met: peak <= 100 } : {})
  })
}

// ---------------------------------------------------------------------------------------------
// 8. Several verified files under a per-connection cap: concurrency 4 against concurrency 1.

const FANOUT_CAP = 64 * MiB

export async function verifiedFanOut(ctx: VerifiedContext): Promise<void> {
  const { count } = ctx.sizes.fanout
  const { body, digests } = await verifiedBody(ctx.csvBody(ctx.sizes.fanout.size))
  const files = Array.from({ length: count }, (_, i) => ({ name: `verified_${i + 1}.csv`, body }))
  const each = formatSize(body.size)
  const expect: Expect = { count, bytes: body.size * count, digests }
  ctx.log(
    `\n(8) ${count} files of ${each} with plain-MD5 ETags, ${formatSize(FANOUT_CAP)}/s per connection`
  )
  await withSimulator(ctx, files, { bytesPerSecond: FANOUT_CAP }, async (sim, id) => {
    const connections = { c4: [] as number[], c1: [] as number[] }
    const run = (key: 'c4' | 'c1', concurrency: number) => async () => {
      const result = await verifiedAction(
        ctx,
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
      ctx.runs,
      [
        ['c4', run('c4', 4)],
        ['c1', run('c1', 1)]
      ],
      {
        beforeRound: () => ctx.settle(8),
        onSample: (key, round, ms) =>
          ctx.log(
            `  ${key} run ${round + 1}: ${formatMs(ms)}, ${connections[key].at(-1) ?? '?'} connection(s) at most`
          )
      }
    )
    const c4 = ctx.record(8, 'concurrency 4', times.c4)
    const c1 = ctx.record(8, 'concurrency 1', times.c1)
    const what = `${count} × ${each} CSV with plain-MD5 ETags, ${formatSize(FANOUT_CAP)}/s per connection`
    ctx.rows.push({
      n: 8,
      what: `${what}: action, concurrency 4 (${Math.max(...connections.c4)} connections at most), verified by MD5`,
      figure: formatMs(c4)
    })
    ctx.rows.push({ n: 8, what: 'action, concurrency 1', figure: formatMs(c1) })
    ctx.rows.push({
      n: 8,
      what: 'concurrency 4 / concurrency 1 (ideal 0.25×)',
      figure: formatRatio(c4 / c1),
      target: '≤ 0.28×',
      met: c4 / c1 <= 0.28
    })
  })
}
