/**
 * A faithful Datafiniti simulator for tests, the demo and the benchmark: the v3 request/results API
 * on one port and an S3-like file host with pre-signed URLs on another, both on 127.0.0.1. Its
 * behaviour follows shared/reference/datafiniti-api.md, not the action's code.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/** A file's content: served in ranges without ever being held whole when generated. */
export interface FileBody {
  size: number
  /** Bytes [start, end) as a stream. */
  stream(start: number, end: number): Readable
  /** Plain MD5 hex for single-part uploads; undefined gives an S3 multipart-style ETag. */
  md5: string | undefined
}

export function bufferBody(data: Buffer): FileBody {
  return {
    size: data.length,
    stream: (start, end) => Readable.from([data.subarray(start, end)]),
    md5: createHash('md5').update(data).digest('hex')
  }
}

/** `header` then `block` repeated: gigabytes of valid CSV without gigabytes of memory. */
export function repeatBody(header: Buffer, block: Buffer, times: number): FileBody {
  const size = header.length + block.length * times
  return {
    size,
    md5: undefined,
    stream(start, end) {
      let pos = start
      return new Readable({
        read() {
          if (pos >= end) {
            this.push(null)
            return
          }
          let chunk: Buffer
          if (pos < header.length) {
            chunk = header.subarray(pos, Math.min(end, header.length))
          } else {
            const offset = (pos - header.length) % block.length
            chunk = block.subarray(offset, Math.min(block.length, offset + (end - pos)))
          }
          pos += chunk.length
          this.push(chunk)
        }
      })
    }
  }
}

/** One scripted misbehaviour, used once, in order. */
export type Fault =
  | { status: number; body?: string; headers?: Record<string, string> }
  /** Send headers and this many bytes of the body, then destroy the connection. */
  | { destroyAfter: number }
  /** Claim the full Content-Length but end the body cleanly after this many bytes. */
  | { shortAfter: number }
  /** Send this many bytes, then nothing for `ms`. */
  | { stallAfter: number; ms: number }

export interface SimFile {
  name: string
  body: FileBody
  /** As `/v3/results` reports it; defaults to the time the simulator started, v3-style. */
  dateCreated?: string
  /** Misbehaviour of the file host for this file, one per GET. */
  faults?: Fault[]
  /** Send no `Content-Length` (chunked). */
  chunked?: boolean
  /** URLs from the first N `/results` answers are expired (403 `Request has expired`). */
  expiredUrls?: number
  /** An ETag that is not this content's MD5. */
  etag?: string
  /** Ignore `Range` (answer 200 with the whole body), like a host without range support. */
  noRanges?: boolean
}

export interface SimRequest {
  id: number
  dataFormat?: 'csv' | 'json'
  numRequested?: number
  /** `/v3/requests` polls answered STARTED before COMPLETED. */
  pollsUntilComplete?: number
  /** `/v3/results` answers 404 this many times after completion. */
  resultsNotReady?: number
  /** Set once complete: the request failed with this error. */
  error?: string
  /** Status reported when complete (default COMPLETED; a failed request keeps STARTED's successor). */
  finalStatus?: string
  files: SimFile[]
  /** `/v3/requests` body as a one-element array (default, as the guides show) or a bare object. */
  shape?: 'array' | 'object'
  statusCase?: 'upper' | 'lower'
  /** Misbehaviour of `/v3/requests/{id}` and `/v3/results/{id}`, one per call. */
  requestFaults?: Fault[]
  resultFaults?: Fault[]
}

export interface SimOptions {
  token: string
  requests: SimRequest[]
  /** Per-connection bandwidth cap of the file host in bytes per second, like S3. */
  bytesPerSecond?: number
  /** Path prefix of file URLs; v3 examples use the token itself, which the action must never log. */
  filePrefix?: string
}

export interface LoggedRequest {
  server: 'api' | 'files'
  method: string
  path: string
  headers: http.IncomingHttpHeaders
  status: number
}

export interface Simulator {
  apiUrl: string
  fileOrigin: string
  log: LoggedRequest[]
  /** How many times each `/v3/requests/{id}` was polled. */
  polls(id: number): number
  stop(): Promise<void>
}

const SIGNING_KEY = randomBytes(32)

function v3Date(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0')
  return (
    `${date.getUTCFullYear()}-${date.getUTCMonth() + 1}-${date.getUTCDate()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
  )
}

function sign(path: string, amzDate: string, expires: string): string {
  return createHmac('sha256', SIGNING_KEY).update(`${path}\n${amzDate}\n${expires}`).digest('hex')
}

export async function startSimulator(options: SimOptions): Promise<Simulator> {
  const log: LoggedRequest[] = []
  const pollCounts = new Map<number, number>()
  const resultCalls = new Map<number, number>()
  const started = new Date()
  const prefix = options.filePrefix ?? options.token
  const expectedAuth = `Basic ${Buffer.from(`${options.token}:`).toString('base64')}`
  const requests = new Map(options.requests.map(r => [r.id, r]))
  const filesByPath = new Map<string, SimFile>()
  /** Which `/results` answer (1, 2, …) handed out each signature. */
  const generationOf = new Map<string, number>()
  let fileOrigin = ''

  function signedUrl(file: SimFile, generation: number): string {
    const path = `/${encodeURIComponent(prefix)}/${encodeURIComponent(file.name)}`
    // Distinct per answer, as real pre-signed URLs are (their date differs).
    const amzDate = new Date(Date.now() + generation * 1000)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+/, '')
    const expires = '604800'
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `AKIASIMULATOR/${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`,
      'X-Amz-Date': amzDate,
      'X-Amz-Expires': expires,
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': sign(path, amzDate, expires)
    })
    filesByPath.set(path, file)
    generationOf.set(sign(path, amzDate, expires), generation)
    return `${fileOrigin}${path}?${query.toString()}`
  }

  function json(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body)
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text)
    })
    res.end(text)
  }

  function apiError(
    res: http.ServerResponse,
    status: number,
    error: string,
    message: string
  ): void {
    json(res, status, { error, message, code: status })
  }

  /** Applies a scripted status fault; stream faults only make sense on the file host. */
  function statusFault(res: http.ServerResponse, faults: Fault[] | undefined): boolean {
    const fault = faults?.shift()
    if (!fault) return false
    if ('status' in fault) {
      const body =
        fault.body ??
        JSON.stringify({ error: 'Simulated', message: 'simulated fault', code: fault.status })
      res.writeHead(fault.status, { 'Content-Length': Buffer.byteLength(body), ...fault.headers })
      res.end(body)
      return true
    }
    throw new Error('stream faults apply to files only')
  }

  function handleApi(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://api')
    if (req.headers.authorization !== expectedAuth) {
      apiError(
        res,
        401,
        'Unauthorized',
        'Authentication required. Please provide a valid API token'
      )
      return
    }
    const match = /^\/v3\/(requests|results)\/([^/]+)$/.exec(url.pathname)
    if (!match || req.method !== 'GET') {
      apiError(res, 404, 'Not Found', 'The requested resource was not found')
      return
    }
    const [, kind, rawId] = match
    const id = /^\d+$/.test(rawId ?? '') ? Number(rawId) : NaN
    const request = requests.get(id)
    if (kind === 'requests') {
      if (!request) {
        apiError(res, 400, 'Bad Request', 'Invalid request ID')
        return
      }
      if (statusFault(res, request.requestFaults)) return
      const polls = (pollCounts.get(id) ?? 0) + 1
      pollCounts.set(id, polls)
      const until = request.pollsUntilComplete ?? 0
      const done = polls > until
      const total = request.numRequested ?? 1000
      const numDownloaded = done ? total : Math.floor((total * (polls - 1)) / Math.max(1, until))
      let status = done ? (request.finalStatus ?? 'COMPLETED') : 'STARTED'
      if (request.statusCase === 'lower') status = status.toLowerCase()
      const object = {
        id,
        records: '',
        query: 'country:US',
        dataType: 'properties',
        dataFormat: request.dataFormat ?? 'csv',
        accountId: options.token, // real responses can echo the token: clients must not log this
        planId: 'free',
        view: 'properties_all_nested',
        async: 1,
        status,
        error: done ? (request.error ?? '') : '',
        numDownloaded,
        numFound: total,
        numRequested: total,
        date_started: v3Date(started),
        date_completed: done ? v3Date(new Date()) : ''
      }
      json(res, 200, request.shape === 'object' ? object : [object])
      return
    }
    if (!request) {
      apiError(res, 500, 'Internal Server Error', 'An unexpected error occurred on the server')
      return
    }
    if (statusFault(res, request.resultFaults)) return
    const complete = (pollCounts.get(id) ?? 0) > (request.pollsUntilComplete ?? 0) && !request.error
    const calls = (resultCalls.get(id) ?? 0) + 1
    if (complete) resultCalls.set(id, calls)
    if (!complete || calls <= (request.resultsNotReady ?? 0)) {
      apiError(
        res,
        404,
        'Not Found',
        "Results don't exist. If your download request status still says STARTED, wait until it says COMPLETED."
      )
      return
    }
    json(
      res,
      200,
      request.files.map((file, index) => ({
        id: index + 1,
        url: signedUrl(file, calls - (request.resultsNotReady ?? 0)),
        request_id: id,
        downloaded: 42,
        imported: 42,
        date_created: file.dateCreated ?? v3Date(started)
      }))
    )
  }

  function s3Error(res: http.ServerResponse, status: number, code: string, message: string): void {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>SIM</RequestId></Error>`
    res.writeHead(status, {
      'Content-Type': 'application/xml',
      'Content-Length': Buffer.byteLength(body)
    })
    res.end(body)
  }

  function handleFile(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://files')
    if (req.headers.authorization) {
      s3Error(
        res,
        400,
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified'
      )
      return
    }
    const file = filesByPath.get(url.pathname)
    const q = url.searchParams
    const signature = q.get('X-Amz-Signature') ?? ''
    const expected = sign(url.pathname, q.get('X-Amz-Date') ?? '', q.get('X-Amz-Expires') ?? '')
    if (
      !file ||
      signature.length !== expected.length ||
      !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
    ) {
      s3Error(res, 403, 'AccessDenied', 'Access Denied')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      s3Error(
        res,
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.'
      )
      return
    }
    if ((generationOf.get(signature) ?? 0) <= (file.expiredUrls ?? 0)) {
      s3Error(res, 403, 'AccessDenied', 'Request has expired')
      return
    }
    const fault = file.faults?.shift()
    if (fault && 'status' in fault) {
      res.writeHead(fault.status, { 'Content-Type': 'application/xml', ...fault.headers })
      res.end(
        fault.body ??
          '<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>'
      )
      return
    }
    const etag =
      file.etag ??
      (file.body.md5
        ? `"${file.body.md5}"`
        : `"${createHash('md5').update(file.name).digest('hex')}-8"`)
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': file.name.endsWith('.csv') ? 'text/csv' : 'text/plain',
      ETag: etag,
      'Last-Modified': started.toUTCString()
    }
    if (!file.noRanges) headers['Accept-Ranges'] = 'bytes'
    const size = file.body.size
    let start = 0
    let end = size
    const range = file.noRanges ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
    const ifRange = req.headers['if-range']
    let status = 200
    if (range && (ifRange === undefined || ifRange === etag)) {
      start = Number(range[1])
      end = range[2] ? Math.min(size, Number(range[2]) + 1) : size
      if (start >= size || start >= end) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` })
        res.end()
        return
      }
      status = 206
      headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`
    }
    if (!file.chunked) headers['Content-Length'] = end - start
    res.writeHead(status, headers)
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    let source = file.body.stream(start, end)
    if (fault && 'shortAfter' in fault) {
      source = file.body.stream(start, Math.min(end, start + fault.shortAfter))
    }
    const stages: NodeJS.ReadWriteStream[] = []
    if (options.bytesPerSecond) stages.push(throttle(options.bytesPerSecond))
    if (fault && 'destroyAfter' in fault)
      stages.push(cutAfter(fault.destroyAfter, () => res.destroy()))
    if (fault && 'stallAfter' in fault) stages.push(stallAfter(fault.stallAfter, fault.ms))
    if (fault && 'shortAfter' in fault) {
      // End the body cleanly but short of Content-Length, then drop the connection as a server would.
      source.on('end', () => setImmediate(() => res.destroy()))
    }
    pipeline([source, ...stages, res] as NodeJS.ReadWriteStream[]).catch(() => res.destroy())
  }

  function wrap(
    server: 'api' | 'files',
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => void
  ) {
    return (req: http.IncomingMessage, res: http.ServerResponse): void => {
      // Logged on arrival, so that requests whose connection is cut still show.
      const entry: LoggedRequest = {
        server,
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        status: 0
      }
      log.push(entry)
      res.on('close', () => {
        entry.status = res.statusCode
      })
      try {
        handler(req, res)
      } catch (error) {
        res.destroy(error as Error)
      }
    }
  }

  const api = http.createServer(wrap('api', handleApi))
  const files = http.createServer(wrap('files', handleFile))
  await Promise.all([listen(api), listen(files)])
  fileOrigin = `http://127.0.0.1:${(files.address() as AddressInfo).port}`

  return {
    apiUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
    fileOrigin,
    log,
    polls: id => pollCounts.get(id) ?? 0,
    stop: async () => {
      await Promise.all([close(api), close(files)])
    }
  }
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections()
  return new Promise(resolve => server.close(() => resolve()))
}

/** Paces a stream to `bytesPerSecond`, like S3's per-connection throughput. */
function throttle(bytesPerSecond: number): Transform {
  const start = Date.now()
  let sent = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const pieces: Buffer[] = []
      for (let i = 0; i < chunk.length; i += 64 * 1024)
        pieces.push(chunk.subarray(i, i + 64 * 1024))
      const pushNext = (): void => {
        const piece = pieces.shift()
        if (!piece) {
          callback()
          return
        }
        sent += piece.length
        this.push(piece)
        const due = start + (sent / bytesPerSecond) * 1000
        setTimeout(pushNext, Math.max(0, due - Date.now()))
      }
      pushNext()
    }
  })
}

function cutAfter(limit: number, cut: () => void): Transform {
  let sent = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (sent + chunk.length >= limit) {
        this.push(chunk.subarray(0, limit - sent))
        sent = limit
        setImmediate(cut)
        return
      }
      sent += chunk.length
      callback(null, chunk)
    }
  })
}

function stallAfter(limit: number, ms: number): Transform {
  let sent = 0
  let stalled = false
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!stalled && sent + chunk.length >= limit) {
        stalled = true
        this.push(chunk.subarray(0, limit - sent))
        const rest = chunk.subarray(limit - sent)
        sent += chunk.length
        setTimeout(() => callback(null, rest), ms)
        return
      }
      sent += chunk.length
      callback(null, chunk)
    }
  })
}
