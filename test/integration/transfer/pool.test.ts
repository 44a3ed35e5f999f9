import { createHash, randomBytes } from 'node:crypto'
import { lstat, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { awkwardCsv, jsonLines } from '../../../sim/data.js'
import type { DownloadedFile, PlannedFile, VerifiedCopy } from '../../../src/domain/model.js'
import { downloadFiles as downloadWith } from '../../../src/transfer/pool.js'
import type { TransferContext, TransferHooks } from '../../../src/transfer/job.js'
import { testHasher } from '../../helpers/hasher.js'
import { FatalError } from '../../../src/support/errors.js'
import { createHttp, type Http } from '../../../src/http/transport.js'
import { fakeClock, type FakeClock } from '../../helpers/clock.js'
import { rejection } from '../../helpers/errors.js'
import { recordingLog, type RecordingLog } from '../../helpers/log.js'

const SIGNATURE = 'SIGNATUREsecret0123456789'

type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  attempt: number
) => void | Promise<void>

interface Seen {
  path: string
  headers: http.IncomingHttpHeaders
  /** The client's port: one per connection. */
  port: number | undefined
}

interface TestServer {
  base: string
  seen: Seen[]
  /** Requests in flight right now, and the most at once. */
  active: number
  max: number
  countFor(name: string): number
}

let servers: http.Server[] = []
let dir: string
let client: Http & { dispose(): void }

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'download-test-'))
  client = createHttp({ socketTimeoutMs: 5000 })
})

afterEach(async () => {
  client.dispose()
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
  servers = []
  await rm(dir, { recursive: true, force: true })
})

async function serve(handlers: Record<string, Handler>): Promise<TestServer> {
  const counts = new Map<string, number>()
  const state: TestServer = {
    base: '',
    seen: [],
    active: 0,
    max: 0,
    countFor: name => counts.get(name) ?? 0
  }
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(
      new URL(req.url ?? '/', 'http://x').pathname.split('/').at(-1) ?? ''
    )
    state.seen.push({ path: req.url ?? '', headers: req.headers, port: req.socket.remotePort })
    const attempt = (counts.get(name) ?? 0) + 1
    counts.set(name, attempt)
    state.active++
    state.max = Math.max(state.max, state.active)
    let done = false
    const finish = (): void => {
      if (!done) {
        done = true
        state.active--
      }
    }
    res.on('finish', finish)
    res.on('close', finish)
    const handler = handlers[name]
    if (!handler) {
      res.writeHead(500).end(`no handler for ${name}`)
      return
    }
    void Promise.resolve(handler(req, res, attempt)).catch((error: unknown) => {
      res.destroy(error as Error)
    })
  })
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}

/** Sends the body in several writes, so the client sees more than one chunk. */
function sendBody(
  res: http.ServerResponse,
  body: Buffer,
  headers: http.OutgoingHttpHeaders = {}
): void {
  res.writeHead(200, { 'Content-Length': body.length, ...headers })
  const step = Math.max(1, Math.ceil(body.length / 5))
  for (let i = 0; i < body.length; i += step) res.write(body.subarray(i, i + step))
  res.end()
}

function ok(body: Buffer): Handler {
  return (_req, res) => sendBody(res, body)
}

/** Headers and the first `bytes` bytes, then nothing more: a stalled transfer. */
function stallAfter(body: Buffer, bytes: number, onSent?: () => void): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'Content-Length': body.length })
    res.write(body.subarray(0, bytes), () => onSent?.())
  }
}

function signedUrl(server: TestServer, name: string): string {
  return (
    `${server.base}/bucket/tokenprefix/${encodeURIComponent(name)}` +
    `?X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=${SIGNATURE}`
  )
}

function plan(server: TestServer, name: string, format?: PlannedFile['format']): PlannedFile {
  return { url: signedUrl(server, name), name, format }
}

function instantClock(): FakeClock {
  return fakeClock(Date.UTC(2024, 0, 1), { frozen: true })
}

type DownloadOptions = TransferContext & TransferHooks

/** The pool with one object as both its context and its hooks. */
function downloadFiles(
  files: readonly PlannedFile[],
  opts: DownloadOptions
): Promise<DownloadedFile[]> {
  return downloadWith(files, opts, opts)
}

function options(extra: Partial<DownloadOptions> = {}): DownloadOptions & {
  clock: FakeClock
  log: RecordingLog
} {
  return {
    dir,
    concurrency: 4,
    http: client,
    clock: instantClock(),
    policy: { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    stallTimeoutMs: 10_000,
    log: recordingLog(),
    signal: new AbortController().signal,
    hasher: testHasher,
    ...extra
  } as DownloadOptions & { clock: FakeClock; log: RecordingLog }
}

/** `options(extra)` that also count: the sizes told to onSize, and the bytes told to onBytes. */
function countingOptions(extra: Partial<DownloadOptions> = {}): {
  opts: ReturnType<typeof options>
  counts: { sizes: number[]; net: number }
} {
  const counts = { sizes: [] as number[], net: 0 }
  const opts = options({
    onSize: bytes => counts.sizes.push(bytes),
    onBytes: bytes => (counts.net += bytes),
    ...extra
  })
  return { opts, counts }
}

async function listDir(where = dir): Promise<string[]> {
  return (await readdir(where)).sort()
}

async function expectNoPartFiles(where = dir): Promise<void> {
  expect((await listDir(where)).filter(name => name.endsWith('.part'))).toEqual([])
}

/** Every test on both transports for file bodies: the action's own socket reader and node:http. */
describe.each([
  ['the direct socket reader', true],
  ['@actions/http-client', false]
])('over %s', (_transport, direct) => {
  beforeEach(() => {
    client.dispose()
    client = createHttp({ socketTimeoutMs: 5000, direct })
  })

  describe('downloadFiles', () => {
    it('writes every file with its exact bytes and counts records', async () => {
      const csv = awkwardCsv(300, 3, '\r\n')
      const json = jsonLines(120, 4)
      const binary = randomBytes(70_000)
      const server = await serve({
        '6073_1.csv': ok(csv.body),
        '6073_2.json': ok(json.body),
        'blob.bin': ok(binary),
        'empty.csv': ok(Buffer.alloc(0))
      })
      const { opts, counts } = countingOptions()
      const files = await downloadFiles(
        [
          plan(server, '6073_1.csv', 'csv'),
          plan(server, '6073_2.json', 'json'),
          plan(server, 'blob.bin', undefined),
          plan(server, 'empty.csv', 'csv')
        ],
        opts
      )
      // The sha256 is of the bytes on disk; with no ETag the length is what was checked.
      const checked = (body: Buffer) => ({
        sha256: createHash('sha256').update(body).digest('hex'),
        integrity: 'length',
        etag: undefined
      })
      expect(files).toEqual([
        {
          name: '6073_1.csv',
          path: path.join(dir, '6073_1.csv'),
          bytes: csv.body.length,
          records: 300,
          ...checked(csv.body)
        },
        {
          name: '6073_2.json',
          path: path.join(dir, '6073_2.json'),
          bytes: json.body.length,
          records: 120,
          ...checked(json.body)
        },
        {
          name: 'blob.bin',
          path: path.join(dir, 'blob.bin'),
          bytes: binary.length,
          records: undefined,
          ...checked(binary)
        },
        {
          name: 'empty.csv',
          path: path.join(dir, 'empty.csv'),
          bytes: 0,
          records: 0,
          ...checked(Buffer.alloc(0))
        }
      ])
      expect((await readFile(path.join(dir, '6073_1.csv'))).equals(csv.body)).toBe(true)
      expect((await readFile(path.join(dir, '6073_2.json'))).equals(json.body)).toBe(true)
      expect((await readFile(path.join(dir, 'blob.bin'))).equals(binary)).toBe(true)
      expect((await readFile(path.join(dir, 'empty.csv'))).length).toBe(0)
      expect(await listDir()).toEqual(['6073_1.csv', '6073_2.json', 'blob.bin', 'empty.csv'])
      expect(counts.sizes.sort((a, b) => a - b)).toEqual(
        [0, binary.length, csv.body.length, json.body.length].sort((a, b) => a - b)
      )
      expect(counts.net).toBe(csv.body.length + json.body.length + binary.length)
      expect(opts.clock.sleeps).toEqual([])
      expect(opts.log.warnings).toEqual([])
    })

    it('creates a missing download directory', async () => {
      const server = await serve({ 'a.csv': ok(Buffer.from('h\n1\n')) })
      const nested = path.join(dir, 'deep', 'er')
      const files = await downloadFiles([plan(server, 'a.csv', 'csv')], options({ dir: nested }))
      expect(files[0]?.path).toBe(path.join(nested, 'a.csv'))
      expect(await readFile(path.join(nested, 'a.csv'), 'utf8')).toBe('h\n1\n')
    })

    it('returns an empty list for no files', async () => {
      await expect(downloadFiles([], options())).resolves.toEqual([])
    })

    it('sends no Authorization header, only the signed URL', async () => {
      const server = await serve({
        'a.csv': ok(Buffer.from('h\n1\n')),
        'b.csv': ok(Buffer.from('h\n2\n'))
      })
      await downloadFiles([plan(server, 'a.csv', 'csv'), plan(server, 'b.csv', 'csv')], options())
      expect(server.seen).toHaveLength(2)
      for (const seen of server.seen) {
        expect(seen.headers.authorization).toBeUndefined()
        expect(seen.path).toContain(`X-Amz-Signature=${SIGNATURE}`)
        // Both keep connections alive (the direct reader by HTTP/1.1's default, unsaid).
        expect(seen.headers.connection).toBe(direct ? undefined : 'keep-alive')
      }
    })

    it('takes a chunked file body through @actions/http-client, asking once more', async () => {
      const data = Buffer.from('h\n1\n2\n')
      const server = await serve({
        'c.csv': (_req, res) => {
          res.writeHead(200, { 'Transfer-Encoding': 'chunked' })
          res.end(data)
        }
      })
      const [file] = await downloadFiles([plan(server, 'c.csv', 'csv')], options())
      expect(file?.records).toBe(2)
      expect(await readFile(path.join(dir, 'c.csv'))).toEqual(data)
      expect(server.seen.map(seen => seen.headers.connection)).toEqual(
        direct ? [undefined, 'keep-alive'] : ['keep-alive']
      )
    })

    it.each([1, 2, 3])('runs at most %i transfers at once', async limit => {
      const count = 7
      const bodies = Array.from({ length: count }, (_, i) => Buffer.from(`h\n${i}\n`))
      // Hold requests until `limit` are waiting (or all have arrived), then answer them together:
      // the server sees `limit` requests at once, and would see more if the client sent more.
      let pending: (() => void)[] = []
      let arrived = 0
      const handlers: Record<string, Handler> = {}
      bodies.forEach((body, i) => {
        handlers[`f${i}.csv`] = (_req, res) => {
          arrived++
          pending.push(() => sendBody(res, body))
          if (pending.length >= limit || arrived === count) {
            const release = pending
            pending = []
            for (const send of release) send()
          }
        }
      })
      const server = await serve(handlers)
      const files = await downloadFiles(
        bodies.map((_, i) => plan(server, `f${i}.csv`, 'csv')),
        options({ concurrency: limit })
      )
      expect(files.map(f => f.name)).toEqual(bodies.map((_, i) => `f${i}.csv`))
      expect(server.seen).toHaveLength(count)
      expect(server.max).toBe(limit)
    })

    it('turns a 404 into a FatalError, stops the other transfers and leaves no .part file', async () => {
      let firstBytes: () => void = () => undefined
      const bytesArrived = new Promise<void>(resolve => (firstBytes = resolve))
      const big = Buffer.alloc(100_000, 'x')
      const server = await serve({
        'slow.csv': stallAfter(big, 1000),
        'missing.csv': async (_req, res) => {
          await bytesArrived
          res.writeHead(404, { 'Content-Type': 'application/xml' })
          res.end(
            '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>'
          )
        }
      })
      const opts = options({ stallTimeoutMs: 120_000, onBytes: () => firstBytes() })
      const error = await rejection(
        downloadFiles([plan(server, 'slow.csv', 'csv'), plan(server, 'missing.csv', 'csv')], opts)
      )
      expect(error).toBeInstanceOf(FatalError)
      expect(error.message).toContain('missing.csv')
      expect(error.message).toContain('HTTP 404')
      expect(error.message).toContain('NoSuchKey')
      expect(error.message).not.toContain(SIGNATURE)
      expect(error.message).not.toContain('tokenprefix')
      expect(server.countFor('missing.csv')).toBe(1)
      expect(opts.clock.sleeps).toEqual([])
      expect(await listDir()).toEqual([])
    }, 20_000)

    it('turns a 403 with an S3 expiry body into an error about expired URLs, without retrying', async () => {
      const server = await serve({
        'old.csv': (_req, res) => {
          res.writeHead(403, { 'Content-Type': 'application/xml' })
          res.end(
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>' +
              '<Message>Request has expired</Message><X-Amz-Expires>604800</X-Amz-Expires></Error>'
          )
        }
      })
      const opts = options()
      const error = await rejection(downloadFiles([plan(server, 'old.csv', 'csv')], opts))
      expect(error).toBeInstanceOf(FatalError)
      expect(error.message).toContain('HTTP 403')
      expect(error.message).toContain('AccessDenied: Request has expired')
      expect(error.message).toMatch(/expired/)
      expect(error.message).toContain('7 days')
      expect(error.message).toContain('old.csv')
      expect(error.message).not.toContain(SIGNATURE)
      expect(server.countFor('old.csv')).toBe(1)
      expect(await listDir()).toEqual([])
    })

    it('retries a 503 and succeeds, waiting as Retry-After says', async () => {
      const body = Buffer.from('id,name\n1,a\n2,b\n')
      const server = await serve({
        'busy.csv': (_req, res, attempt) => {
          if (attempt === 1) {
            res.writeHead(503, { 'Retry-After': '2' })
            res.end(
              '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
            )
            return
          }
          sendBody(res, body)
        }
      })
      const opts = options()
      const files = await downloadFiles([plan(server, 'busy.csv', 'csv')], opts)
      expect(files[0]).toMatchObject({ bytes: body.length, records: 2 })
      expect((await readFile(path.join(dir, 'busy.csv'))).equals(body)).toBe(true)
      expect(server.countFor('busy.csv')).toBe(2)
      expect(opts.clock.sleeps).toEqual([2000])
      expect(opts.log.warnings).toHaveLength(1)
      expect(opts.log.warnings[0]).toContain('retry 1 of 3')
      expect(opts.log.warnings[0]).toContain('HTTP 503')
      expect(opts.log.warnings[0]).toContain('busy.csv')
      expect(opts.log.lines.join('\n')).not.toContain(SIGNATURE)
      await expectNoPartFiles()
    })

    it('uses backoff for a 500 without Retry-After and gives up after maxRetries', async () => {
      const server = await serve({
        'broken.csv': (_req, res) => {
          res.writeHead(500)
          res.end('oops')
        }
      })
      const opts = options({ policy: { maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1000 } })
      const error = await rejection(downloadFiles([plan(server, 'broken.csv', 'csv')], opts))
      expect(error.message).toContain('HTTP 500')
      expect(error.message).toContain('broken.csv')
      expect(error.message).not.toContain(SIGNATURE)
      expect(server.countFor('broken.csv')).toBe(3)
      expect(opts.clock.sleeps).toHaveLength(2)
      opts.clock.sleeps.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(100 * 2 ** i))
      expect(await listDir()).toEqual([])
    })

    it('retries a body shorter than its Content-Length, then fails after maxRetries', async () => {
      const body = Buffer.alloc(1000, 'y')
      const server = await serve({
        'short.csv': (_req, res) => {
          res.writeHead(200, { 'Content-Length': body.length })
          res.write(body.subarray(0, 400), () => res.socket?.destroy())
        }
      })
      const opts = options({ policy: { maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1000 } })
      const error = await rejection(downloadFiles([plan(server, 'short.csv', 'csv')], opts))
      expect(error.message).toMatch(/after \d+ of 1000 bytes|ended after \d+ of 1000 bytes/)
      expect(error.message).toContain('short.csv')
      expect(error.message).not.toContain(SIGNATURE)
      expect(server.countFor('short.csv')).toBe(3)
      expect(opts.clock.sleeps).toHaveLength(2)
      expect(opts.log.warnings).toHaveLength(2)
      expect(await listDir()).toEqual([])
    })

    it('recovers when a short body is followed by a complete one', async () => {
      const body = Buffer.from('h\n' + 'row\n'.repeat(500))
      const server = await serve({
        'flaky.csv': (_req, res, attempt) => {
          if (attempt === 1) {
            res.writeHead(200, { 'Content-Length': body.length })
            res.write(body.subarray(0, 100), () => res.socket?.destroy())
            return
          }
          sendBody(res, body)
        }
      })
      const { opts, counts } = countingOptions()
      const files = await downloadFiles([plan(server, 'flaky.csv', 'csv')], opts)
      expect(files[0]).toMatchObject({ bytes: body.length, records: 500 })
      expect((await readFile(path.join(dir, 'flaky.csv'))).equals(body)).toBe(true)
      expect(counts.sizes).toEqual([body.length])
      expect(counts.net).toBe(body.length)
      await expectNoPartFiles()
    })

    it('drops and retries a stalled transfer', async () => {
      const body = Buffer.from('h\n' + 'line\n'.repeat(2000))
      const server = await serve({
        'stall.csv': (req, res, attempt) => {
          if (attempt === 1) return stallAfter(body, 50)(req, res, attempt)
          sendBody(res, body)
        }
      })
      const { opts, counts } = countingOptions({ stallTimeoutMs: 200 })
      const files = await downloadFiles([plan(server, 'stall.csv', 'csv')], opts)
      expect(files[0]).toMatchObject({ name: 'stall.csv', bytes: body.length, records: 2000 })
      expect((await readFile(path.join(dir, 'stall.csv'))).equals(body)).toBe(true)
      expect(server.countFor('stall.csv')).toBe(2)
      expect(opts.log.warnings).toHaveLength(1)
      expect(opts.log.warnings[0]).toContain('no data for 200ms')
      expect(opts.clock.sleeps).toHaveLength(1)
      expect(counts.sizes).toEqual([body.length])
      expect(counts.net).toBe(body.length)
      expect(await listDir()).toEqual(['stall.csv'])
    })

    it('removes .part files when the caller aborts mid-transfer', async () => {
      const controller = new AbortController()
      const reason = new Error('job cancelled')
      const big = Buffer.alloc(200_000, 'z')
      const server = await serve({
        'a.csv': stallAfter(big, 5000),
        'b.csv': stallAfter(big, 5000)
      })
      let received = 0
      const opts = options({
        stallTimeoutMs: 120_000,
        signal: controller.signal,
        onBytes: bytes => {
          if (bytes > 0) received++
          // Abort once both transfers have written something.
          if (received === 2) controller.abort(reason)
        }
      })
      const error = await rejection(
        downloadFiles([plan(server, 'a.csv', 'csv'), plan(server, 'b.csv', 'csv')], opts)
      )
      expect(error).toBe(reason)
      expect(server.countFor('a.csv')).toBe(1)
      expect(server.countFor('b.csv')).toBe(1)
      expect(opts.clock.sleeps).toEqual([])
      expect(await listDir()).toEqual([])
    }, 20_000)

    it('makes no request when the signal has already aborted', async () => {
      const server = await serve({ 'a.csv': ok(Buffer.from('h\n1\n')) })
      const reason = new Error('already cancelled')
      const error = await rejection(
        downloadFiles(
          [plan(server, 'a.csv', 'csv')],
          options({ signal: AbortSignal.abort(reason) })
        )
      )
      expect(error).toBe(reason)
      expect(server.seen).toHaveLength(0)
      expect(await listDir()).toEqual([])
    })

    it('does not start the remaining files after a failure', async () => {
      const handlers: Record<string, Handler> = {
        'gone.csv': (_req, res) => {
          res.writeHead(410)
          res.end()
        }
      }
      for (let i = 0; i < 5; i++) handlers[`later${i}.csv`] = ok(Buffer.from('h\n1\n'))
      const server = await serve(handlers)
      const error = await rejection(
        downloadFiles(
          [
            plan(server, 'gone.csv', 'csv'),
            ...Array.from({ length: 5 }, (_, i) => plan(server, `later${i}.csv`, 'csv'))
          ],
          options({ concurrency: 1 })
        )
      )
      expect(error).toBeInstanceOf(FatalError)
      expect(error.message).toContain('HTTP 410')
      expect(server.seen).toHaveLength(1)
      expect(await listDir()).toEqual([])
    })

    // An abort while the request is in flight fires before the transfer can listen for it.
    it('does not keep downloading a file whose response arrives after the abort', async () => {
      const controller = new AbortController()
      const reason = new Error('job cancelled')
      const body = Buffer.from('h\n' + 'row\n'.repeat(10_000))
      const server = await serve({
        'late.csv': (_req, res) => {
          // The request is in flight: abort now, then answer.
          controller.abort(reason)
          setImmediate(() => sendBody(res, body))
        }
      })
      const error = await rejection(
        downloadFiles([plan(server, 'late.csv', 'csv')], options({ signal: controller.signal }))
      )
      expect(error).toBe(reason)
      expect(await listDir()).toEqual([])
    })
  })

  /** Polls until a file has at least `bytes` bytes (the client writes asynchronously). */
  async function waitForSize(file: string, bytes: number): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      const size = await stat(file).then(
        s => s.size,
        () => 0
      )
      if (size >= bytes) return
      await new Promise(resolve => setTimeout(resolve, 5))
    }
  }

  function md5(data: Buffer): string {
    return createHash('md5').update(data).digest('hex')
  }

  /** A host that honours Range and If-Range like S3, for resume and reuse. */
  function rangeHost(
    body: Buffer,
    etag: string,
    seen: { range: string | undefined; ifRange: string | undefined }[],
    firstAttempt?: Handler
  ): Handler {
    return (req, res, attempt) => {
      const range = req.headers.range
      const ifRange = req.headers['if-range'] as string | undefined
      seen.push({ range, ifRange })
      if (attempt === 1 && firstAttempt) return firstAttempt(req, res, attempt)
      const match = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null
      if (!match || (ifRange !== undefined && ifRange !== etag)) {
        sendBody(res, body, { ETag: etag, 'Accept-Ranges': 'bytes' })
        return
      }
      const start = Number(match[1])
      const end = match[2] ? Number(match[2]) : body.length - 1
      res.writeHead(206, {
        ETag: etag,
        'Accept-Ranges': 'bytes',
        'Content-Range': `bytes ${start}-${end}/${body.length}`,
        'Content-Length': end - start + 1
      })
      res.end(body.subarray(start, end + 1))
    }
  }

  describe('downloadFiles integrity, resume, reuse and fresh URLs', () => {
    it('checks a plain-MD5 ETag of S3 and retries, then fails, when the bytes do not match', async () => {
      const body = Buffer.from('h\n1\n2\n')
      const server = await serve({
        'bad.csv': (_req, res) =>
          sendBody(res, body, {
            ETag: `"${md5(Buffer.from('other'))}"`,
            'x-amz-request-id': 'TX0123'
          })
      })
      const opts = options({ policy: { maxRetries: 1, baseDelayMs: 100, maxDelayMs: 1000 } })
      const error = await rejection(downloadFiles([plan(server, 'bad.csv', 'csv')], opts))
      expect(error.message).toMatch(/MD5/)
      expect(error.message).toContain('bad.csv')
      expect(server.countFor('bad.csv')).toBe(2)
      expect(await listDir()).toEqual([])
    })

    it('accepts a body whose MD5 matches the ETag, and a multipart ETag unchecked', async () => {
      const a = Buffer.from('h\n1\n')
      const b = Buffer.from('h\n1\n2\n')
      const server = await serve({
        'a.csv': (_req, res) => sendBody(res, a, { ETag: `"${md5(a)}"` }),
        'b.csv': (_req, res) => sendBody(res, b, { ETag: '"0123456789abcdef0123456789abcdef-4"' })
      })
      const files = await downloadFiles(
        [plan(server, 'a.csv', 'csv'), plan(server, 'b.csv', 'csv')],
        options()
      )
      expect(files.map(f => [f.name, f.bytes, f.records, f.integrity, f.etag])).toEqual([
        ['a.csv', a.length, 1, 'md5', `"${md5(a)}"`],
        ['b.csv', b.length, 2, 'length', '"0123456789abcdef0123456789abcdef-4"']
      ])
    })

    it('resumes an interrupted transfer with Range and If-Range, counting every record once', async () => {
      const body = Buffer.from('id,note\n' + '1,"a\nb"\n'.repeat(2000))
      const etag = `"${md5(body)}"`
      const seen: { range: string | undefined; ifRange: string | undefined }[] = []
      const server = await serve({
        'big.csv': rangeHost(body, etag, seen, (_req, res) => {
          res.writeHead(200, {
            'Content-Length': body.length,
            ETag: etag,
            'Accept-Ranges': 'bytes'
          })
          // Break the connection once the first bytes are on disk, so there is something to resume.
          res.write(body.subarray(0, 5000), () => {
            void waitForSize(path.join(dir, 'big.csv.part'), 5000).then(() => res.socket?.destroy())
          })
        })
      })
      const { opts, counts } = countingOptions()
      const files = await downloadFiles([plan(server, 'big.csv', 'csv')], opts)
      expect(files[0]).toMatchObject({ bytes: body.length, records: 2000 })
      expect((await readFile(path.join(dir, 'big.csv'))).equals(body)).toBe(true)
      expect(seen).toHaveLength(2)
      expect(seen[0]).toEqual({ range: undefined, ifRange: undefined })
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(seen[1]?.range ?? '')?.[1])
      expect(resumedAt).toBe(5000)
      expect(seen[1]?.ifRange).toBe(etag)
      expect(counts.sizes).toEqual([body.length])
      expect(counts.net).toBe(body.length)
      expect(await listDir()).toEqual(['big.csv'])
    })

    it('does not resume from a stale .part left by an earlier run', async () => {
      const body = Buffer.from('h\nfresh\n')
      const seen: { range: string | undefined; ifRange: string | undefined }[] = []
      const server = await serve({ 'x.csv': rangeHost(body, `"${md5(body)}"`, seen) })
      await writeFile(path.join(dir, 'x.csv.part'), 'h\nstale stale stale\n')
      const files = await downloadFiles([plan(server, 'x.csv', 'csv')], options())
      expect(files[0]).toMatchObject({ bytes: body.length, records: 1 })
      expect(await readFile(path.join(dir, 'x.csv'), 'utf8')).toBe('h\nfresh\n')
      expect(seen.map(s => s.range)).toEqual([undefined])
      expect(await listDir()).toEqual(['x.csv'])
    })

    it('reuses a complete local copy whose size and MD5 match, without downloading it', async () => {
      const body = Buffer.from('h\n1\n2\n3\n')
      const seen: { range: string | undefined; ifRange: string | undefined }[] = []
      const server = await serve({ 'done.csv': rangeHost(body, `"${md5(body)}"`, seen) })
      await writeFile(path.join(dir, 'done.csv'), body)
      let net = 0
      const files = await downloadFiles(
        [plan(server, 'done.csv', 'csv')],
        options({ onBytes: b => (net += b) })
      )
      expect(files[0]).toMatchObject({
        name: 'done.csv',
        bytes: body.length,
        records: 3,
        reused: true
      })
      expect(seen.map(s => s.range)).toEqual(['bytes=0-0'])
      expect(net).toBe(0)
    })

    it('downloads again over a local copy of the right size but the wrong content', async () => {
      const body = Buffer.from('h\n1\n2\n3\n')
      const seen: { range: string | undefined; ifRange: string | undefined }[] = []
      const server = await serve({ 'done.csv': rangeHost(body, `"${md5(body)}"`, seen) })
      await writeFile(path.join(dir, 'done.csv'), Buffer.from('h\n9\n9\n9\n'))
      const files = await downloadFiles([plan(server, 'done.csv', 'csv')], options())
      expect(files[0]?.reused).toBeFalsy()
      expect((await readFile(path.join(dir, 'done.csv'))).equals(body)).toBe(true)
      expect(seen.map(s => s.range)).toEqual(['bytes=0-0', undefined])
    })

    it('fetches fresh URLs once when the host refuses signed URLs, and succeeds', async () => {
      const a = Buffer.from('h\n1\n')
      const b = Buffer.from('h\n1\n2\n')
      const refuse: Handler = (_req, res) => {
        res.writeHead(403)
        res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>')
      }
      const server = await serve({
        'a.csv': (req, res, n) =>
          req.url?.includes('/old/') ? refuse(req, res, n) : ok(a)(req, res, n),
        'b.csv': (req, res, n) =>
          req.url?.includes('/old/') ? refuse(req, res, n) : ok(b)(req, res, n)
      })
      const old = (name: string): PlannedFile => ({
        url: `${server.base}/old/${name}?X-Amz-Signature=${SIGNATURE}`,
        name,
        format: 'csv'
      })
      let refreshes = 0
      const opts = options({
        concurrency: 2,
        refreshUrls: () => {
          refreshes++
          return Promise.resolve([`${server.base}/new/a.csv?s=1`, `${server.base}/new/b.csv?s=2`])
        }
      })
      const files = await downloadFiles([old('a.csv'), old('b.csv')], opts)
      expect(files.map(f => [f.name, f.records])).toEqual([
        ['a.csv', 1],
        ['b.csv', 2]
      ])
      expect(refreshes).toBe(1)
      expect(server.seen.filter(s => s.path.includes('/new/'))).toHaveLength(2)
      expect((await readFile(path.join(dir, 'b.csv'))).equals(b)).toBe(true)
    })

    it('gives up with the expiry explanation when fresh URLs are refused too', async () => {
      const server = await serve({
        'a.csv': (_req, res) => {
          res.writeHead(403)
          res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>')
        }
      })
      let refreshes = 0
      const opts = options({
        refreshUrls: () => {
          refreshes++
          return Promise.resolve([`${server.base}/new/a.csv?X-Amz-Signature=${SIGNATURE}`])
        }
      })
      const error = await rejection(downloadFiles([plan(server, 'a.csv', 'csv')], opts))
      expect(error).toBeInstanceOf(FatalError)
      expect(error.message).toContain('7 days')
      expect(error.message).not.toContain(SIGNATURE)
      expect(refreshes).toBe(1)
      expect(server.countFor('a.csv')).toBe(2)
      expect(await listDir()).toEqual([])
    })
  })

  describe('downloadFiles and abort listeners', () => {
    /** Runs `work` and returns the MaxListenersExceededWarnings Node printed meanwhile. */
    async function listenerWarnings(work: () => Promise<unknown>): Promise<string[]> {
      const seen: string[] = []
      const onWarning = (warning: Error): void => {
        if (warning.name === 'MaxListenersExceededWarning') seen.push(warning.message)
      }
      process.on('warning', onWarning)
      try {
        await work()
        // Warnings are emitted on a later tick.
        await new Promise(resolve => setImmediate(resolve))
      } finally {
        process.off('warning', onWarning)
      }
      return seen
    }

    it('150 files over one run signal: no MaxListenersExceededWarning', async () => {
      const body = Buffer.from('h\n1\n')
      const names = Array.from({ length: 150 }, (_, i) => `f${i + 1}.csv`)
      const server = await serve(Object.fromEntries(names.map(name => [name, ok(body)])))
      const cancel = new AbortController()
      const warnings = await listenerWarnings(() =>
        downloadFiles(
          names.map(name => plan(server, name, 'csv')),
          options({ concurrency: 16, signal: cancel.signal })
        )
      )
      expect(warnings).toEqual([])
      expect(await listDir()).toHaveLength(150)
    })

    it('a first connection faster than singleStreamAbove takes the large file alone: one request', async () => {
      const body = Buffer.alloc(12 * 1024 * 1024, 0x61)
      const seen: { range: string | undefined; ifRange: string | undefined }[] = []
      const server = await serve({ 'big.csv': rangeHost(body, '"abc-12"', seen) })
      const log = recordingLog()
      const [file] = await downloadFiles(
        [plan(server, 'big.csv')],
        options({ concurrency: 4, splitThreshold: 1024 * 1024, singleStreamAbove: 1, log })
      )
      expect(file?.bytes).toBe(body.length)
      // Not toEqual: a deep comparison of 12 MiB takes minutes.
      expect((await readFile(path.join(dir, 'big.csv'))).equals(body)).toBe(true)
      expect(seen.map(s => s.range).filter(range => range !== 'bytes=0-0')).toEqual([undefined])
      expect(log.lines.join('\n')).toMatch(
        /big\.csv: one connection at \d+ MiB\/s already: no ranges/
      )
    })

    it('ranged parts of one host reuse the connections whose last part was read to its end', async () => {
      const body = Buffer.alloc(32 * 1024 * 1024, 'x')
      body.write('h\n')
      const seen: { range: string | undefined; ifRange: string | undefined }[] = []
      const server = await serve({ 'big.csv': rangeHost(body, '"abc-4"', seen) })
      const [file] = await downloadFiles(
        [plan(server, 'big.csv')],
        options({ concurrency: 2, splitThreshold: 1024 * 1024, singleStreamAbove: Infinity })
      )
      expect(file?.bytes).toBe(body.length)
      expect((await readFile(path.join(dir, 'big.csv'))).equals(body)).toBe(true)
      // 4 parts of 8 MiB over 2 connections. The first answer (the whole file, cut after its first
      // part) cannot serve again; the other three parts go over two connections, not three. The
      // library path closes a body the sink stops reading at its last byte, so it reuses none.
      expect(seen.length).toBe(4)
      expect(new Set(server.seen.map(request => request.port)).size).toBe(direct ? 3 : 4)
    })

    it('one file in 12 ranged parts over 16 connections: no MaxListenersExceededWarning', async () => {
      const body = Buffer.alloc(96 * 1024 * 1024, 'x')
      body.write('h\n')
      const seen: { range: string | undefined; ifRange: string | undefined }[] = []
      const server = await serve({ 'big.csv': rangeHost(body, '"abc-12"', seen) })
      const warnings = await listenerWarnings(() =>
        downloadFiles(
          [plan(server, 'big.csv')],
          options({ concurrency: 16, splitThreshold: 1024 * 1024, singleStreamAbove: Infinity })
        )
      )
      expect(warnings).toEqual([])
      expect(seen.length).toBe(12)
      expect((await stat(path.join(dir, 'big.csv'))).size).toBe(body.length)
    })

    it('a failure still stops every file waiting for a connection', async () => {
      const body = Buffer.from('h\n1\n')
      const names = Array.from({ length: 40 }, (_, i) => `f${i + 1}.csv`)
      const server = await serve({
        ...Object.fromEntries(names.map(name => [name, ok(body)])),
        'f1.csv': (_req, res) => {
          res.writeHead(404).end()
        }
      })
      const error = await rejection(
        downloadFiles(
          names.map(name => plan(server, name, 'csv')),
          options({ concurrency: 1 })
        )
      )
      expect(error.message).toContain('f1.csv')
      expect(server.countFor('f2.csv')).toBe(0)
      expect(await listDir()).toEqual([])
    })
  })

  describe('re-run reuse decides from what was verified when the file was written', () => {
    const body = Buffer.from('h\n1\n2\n3\n')
    const stale = Buffer.from('h\n9\n9\n9\n')
    const MULTIPART = '"0123456789abcdef0123456789abcdef-3"'
    const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex')
    const record = (extra: Partial<VerifiedCopy> = {}): Map<string, VerifiedCopy> =>
      new Map([
        [
          'done.csv',
          { bytes: body.length, etag: MULTIPART, sha256: sha(body), integrity: 'length', ...extra }
        ]
      ])

    async function rerun(
      etag: string,
      local: Buffer,
      previous?: Map<string, VerifiedCopy>
    ): Promise<{
      file: DownloadedFile | undefined
      ranges: (string | undefined)[]
      log: string[]
    }> {
      const seen: { range: string | undefined; ifRange: string | undefined }[] = []
      const server = await serve({ 'done.csv': rangeHost(body, etag, seen) })
      await writeFile(path.join(dir, 'done.csv'), local)
      const opts = options(previous ? { previous } : {})
      const [file] = await downloadFiles([plan(server, 'done.csv', 'csv')], opts)
      expect((await readFile(path.join(dir, 'done.csv'))).equals(body)).toBe(true)
      return { file, ranges: seen.map(s => s.range), log: opts.log.lines }
    }

    it('a multipart ETag and a same-size file but no record: downloaded again', async () => {
      const { file, ranges, log } = await rerun(MULTIPART, stale)
      expect(file?.reused).toBeFalsy()
      expect(ranges).toEqual(['bytes=0-0', undefined])
      expect(log.join('\n')).toContain(
        'done.csv: no record of what was verified when it was written, and no MD5 to check it by: downloading it again'
      )
    })

    it('a multipart ETag, the recorded ETag, but bytes that are not the recorded ones: downloaded again', async () => {
      const { file, log } = await rerun(MULTIPART, stale, record())
      expect(file?.reused).toBeFalsy()
      expect(log.join('\n')).toContain('its bytes are not those verified when it was written')
    })

    it('a multipart ETag other than the recorded one: downloaded again without reading the copy', async () => {
      const { file, log } = await rerun(MULTIPART, body, record({ etag: '"ffff-2"' }))
      expect(file?.reused).toBeFalsy()
      expect(log.join('\n')).toContain("the host's ETag is not the one recorded")
    })

    it('a record of a file that nothing verified when it was written: downloaded again', async () => {
      const { file } = await rerun(MULTIPART, body, record({ integrity: 'none' }))
      expect(file?.reused).toBeFalsy()
    })

    it('a multipart ETag, the recorded size, ETag and sha256: reused, with the check it passed then', async () => {
      const { file, ranges, log } = await rerun(MULTIPART, body, record())
      expect(file).toMatchObject({
        reused: true,
        bytes: body.length,
        records: 3,
        sha256: sha(body),
        integrity: 'length',
        etag: MULTIPART
      })
      expect(ranges).toEqual(['bytes=0-0'])
      expect(log.join('\n')).toContain('size, ETag and sha256 match the manifest')
    })

    it('a symlink, even to the right bytes: replaced by a downloaded file, its target untouched', async () => {
      const elsewhere = await mkdtemp(path.join(tmpdir(), 'elsewhere-'))
      try {
        const outside = path.join(elsewhere, 'outside.csv')
        await writeFile(outside, body)
        const seen: { range: string | undefined; ifRange: string | undefined }[] = []
        const server = await serve({ 'done.csv': rangeHost(body, `"${md5(body)}"`, seen) })
        await symlink(outside, path.join(dir, 'done.csv'))
        const opts = options({ previous: record({ etag: `"${md5(body)}"` }) })
        const [file] = await downloadFiles([plan(server, 'done.csv', 'csv')], opts)
        expect(file?.reused).toBeFalsy()
        expect(seen.map(s => s.range)).toEqual([undefined])
        expect(opts.log.lines.join('\n')).toMatch(
          /done\.csv: .* is not a regular file: downloading/
        )
        const local = await lstat(path.join(dir, 'done.csv'))
        expect(local.isFile() && !local.isSymbolicLink()).toBe(true)
        expect((await readFile(outside)).equals(body)).toBe(true)
        expect((await lstat(outside)).isFile()).toBe(true)
      } finally {
        await rm(elsewhere, { recursive: true, force: true })
      }
    })
  })
})
