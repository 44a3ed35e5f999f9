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
  /** Read the request, then drop the connection without answering: it reached the server. */
  | { hangUp: true }
  /** No misbehaviour for this request (to aim a later fault at a later request). */
  | { pass: true }
  /** Answer only after this long (a host that keeps the client waiting for headers). */
  | { delay: number }

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
  /** A number for v3; v4 ids are strings (v4 also serves numeric ids as strings). */
  id: number | string
  dataFormat?: 'csv' | 'json'
  numRequested?: number
  /** Status polls answered STARTED (v4: queued, then running) before COMPLETED. */
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

/** A query the simulator knows: creating a download from it makes a new request. */
export interface SimQuery {
  /** Records that match; 0 answers the API's zero-match error. */
  numFound: number
  /** The new download's files, named from its id. */
  files: (id: string) => SimFile[]
  pollsUntilComplete?: number
  finalStatus?: string
  /** v3 create answers 303 with Location (default) or 200 with the request object. */
  v3Answer?: 'redirect' | 'body'
  /** Misbehaviour of the create call, one per call. */
  createFaults?: Fault[]
  /** Misbehaviour of the new download's status polls. */
  pollFaults?: Fault[]
}

export interface CreatedDownload {
  version: 'v3' | 'v4'
  id: string
  dataType: string
  query: string
  format: string
  /** As sent: undefined when the client asked for every match. */
  numRecords: number | undefined
  view: string | undefined
}

export interface SimOptions {
  token: string
  requests: SimRequest[]
  /** Queries that create downloads, by query text. Unknown queries match nothing. */
  queries?: Record<string, SimQuery>
  /** The plan's preview record limit: a larger download answers 403. */
  previewLimit?: number
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
  /** The most file requests the file host served at once, and how many it serves now. */
  fileConnections: { now: number; max: number }
  /** Every create call that reached the server, faulted or not. */
  createCalls: { version: 'v3' | 'v4'; path: string }[]
  /** Downloads created from queries. */
  created: CreatedDownload[]
  /** How many times a request's status was polled. */
  polls(id: number | string): number
  stop(): Promise<void>
}

const DATA_TYPES = {
  v3: ['products', 'businesses', 'properties'],
  v4: ['products', 'businesses', 'properties', 'people']
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
  const pollCounts = new Map<string, number>()
  const resultCalls = new Map<string, number>()
  const createCalls: Simulator['createCalls'] = []
  const fileConnections = { now: 0, max: 0 }
  const created: CreatedDownload[] = []
  let nextV3Id = 90_001
  const started = new Date()
  const prefix = options.filePrefix ?? options.token
  const basicAuth = `Basic ${Buffer.from(`${options.token}:`).toString('base64')}`
  const bearerAuth = `Bearer ${options.token}`
  const requests = new Map(options.requests.map(r => [String(r.id), r]))
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
    if ('hangUp' in fault) {
      res.socket?.destroy()
      return true
    }
    if ('pass' in fault) return false
    throw new Error('stream faults apply to files only')
  }

  /** One status poll: counts it and says how far the request has come. */
  function poll(id: string, request: SimRequest): { done: boolean; share: number; polls: number } {
    const polls = (pollCounts.get(id) ?? 0) + 1
    pollCounts.set(id, polls)
    const until = request.pollsUntilComplete ?? 0
    const done = polls > until
    return { done, share: done ? 1 : (polls - 1) / Math.max(1, until), polls }
  }

  /** The next set of signed URLs for a complete request (each answer signs them anew). */
  function resultUrls(id: string, request: SimRequest): string[] {
    const calls = (resultCalls.get(id) ?? 0) + 1
    resultCalls.set(id, calls)
    return request.files.map(file => signedUrl(file, calls - (request.resultsNotReady ?? 0)))
  }

  function isComplete(id: string, request: SimRequest): boolean {
    return (pollCounts.get(id) ?? 0) > (request.pollsUntilComplete ?? 0)
  }

  function handleApi(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://api')
    const v4 = url.pathname.startsWith('/v4/')
    if (req.headers.authorization !== (v4 ? bearerAuth : basicAuth)) {
      apiError(
        res,
        401,
        'Unauthorized',
        'Authentication required. Please provide a valid API token'
      )
      return
    }
    let match: RegExpExecArray | null
    if (
      req.method === 'GET' &&
      (match = /^\/v3\/(requests|results)\/([^/]+)$/.exec(url.pathname))
    ) {
      v3Request(res, match[1] as string, decodeURIComponent(match[2] ?? ''))
    } else if (req.method === 'GET' && (match = /^\/v3\/data\/([^/]+)$/.exec(url.pathname))) {
      const q = url.searchParams
      const records = q.get('records')
      create(res, 'v3', url.pathname, {
        dataType: match[1] ?? '',
        query: q.get('q') ?? '',
        format: (q.get('format') ?? 'CSV').toUpperCase(),
        numRecords: records === null ? undefined : Number(records),
        view: q.get('view') ?? undefined,
        download: q.get('download') === 'true'
      })
    } else if (req.method === 'GET' && (match = /^\/v4\/downloads\/([^/]+)$/.exec(url.pathname))) {
      v4Download(res, decodeURIComponent(match[1] ?? ''))
    } else if (req.method === 'POST' && (match = /^\/v4\/([^/]+)\/search$/.exec(url.pathname))) {
      const dataType = match[1] ?? ''
      const path = url.pathname
      readBody(req, text => {
        let body: Record<string, unknown>
        try {
          body = JSON.parse(text) as Record<string, unknown>
        } catch {
          apiError(res, 400, 'Bad Request', 'Request body must be JSON')
          return
        }
        const num = body['num_records']
        create(res, 'v4', path, {
          dataType,
          query: typeof body['query'] === 'string' ? body['query'] : '',
          format: typeof body['format'] === 'string' ? body['format'].toUpperCase() : 'JSON',
          numRecords: typeof num === 'number' ? num : undefined,
          view: typeof body['view'] === 'string' ? body['view'] : undefined,
          download: body['download'] === true
        })
      })
    } else {
      apiError(res, 404, 'Not Found', 'The requested resource was not found')
    }
  }

  function v3Request(res: http.ServerResponse, kind: string, id: string): void {
    const request = /^\d+$/.test(id) ? requests.get(id) : undefined
    if (kind === 'requests') {
      if (!request) {
        apiError(res, 400, 'Bad Request', 'Invalid request ID')
        return
      }
      if (statusFault(res, request.requestFaults)) return
      const { done, share } = poll(id, request)
      const total = request.numRequested ?? 1000
      let status = done ? (request.finalStatus ?? 'COMPLETED') : 'STARTED'
      if (request.statusCase === 'lower') status = status.toLowerCase()
      const object = {
        id: Number(id),
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
        numDownloaded: Math.floor(total * share),
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
    const notYet = (resultCalls.get(id) ?? 0) < (request.resultsNotReady ?? 0)
    if (!isComplete(id, request) || request.error || notYet) {
      if (isComplete(id, request) && notYet) resultCalls.set(id, (resultCalls.get(id) ?? 0) + 1)
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
      resultUrls(id, request).map((url, index) => ({
        id: index + 1,
        url,
        request_id: Number(id),
        downloaded: 42,
        imported: 42,
        date_created: request.files[index]?.dateCreated ?? v3Date(started)
      }))
    )
  }

  function v4Download(res: http.ServerResponse, id: string): void {
    const request = requests.get(id)
    if (!request) {
      apiError(res, 404, 'Not Found', 'Download not found')
      return
    }
    if (statusFault(res, request.requestFaults)) return
    const { done, share, polls } = poll(id, request)
    const total = request.numRequested ?? 1000
    const status = done
      ? (request.finalStatus ?? 'completed').toLowerCase()
      : polls === 1
        ? 'queued'
        : 'running'
    const failed = done && status !== 'completed'
    // `results` fills in as the download runs: clients must wait for `completed` to use it.
    const urls = done && !failed ? resultUrls(id, request) : []
    const partial = done
      ? urls
      : request.files
          .slice(0, Math.floor(request.files.length * share))
          .map(file => signedUrl(file, 1))
    json(res, 200, {
      id,
      _id: 4242,
      status,
      num_records: total,
      num_downloaded: Math.floor(total * share),
      format: (request.dataFormat ?? 'csv').toUpperCase(),
      data_type: 'properties',
      date_started: started.toISOString(),
      date_updated: new Date().toISOString(),
      user_id: 'user-0001',
      results: failed ? [] : partial
    })
  }

  function create(
    res: http.ServerResponse,
    version: 'v3' | 'v4',
    path: string,
    ask: Omit<CreatedDownload, 'version' | 'id' | 'format'> & { format: string; download: boolean }
  ): void {
    createCalls.push({ version, path })
    const spec = options.queries?.[ask.query]
    if (statusFault(res, spec?.createFaults)) return
    if (!DATA_TYPES[version].includes(ask.dataType)) {
      apiError(res, 404, 'Not Found', `Unknown data type ${ask.dataType}`)
      return
    }
    if (!ask.download) {
      apiError(res, 400, 'Bad Request', 'The simulator serves downloads only: set download=true')
      return
    }
    const numFound = spec?.numFound ?? 0
    const numRequested = Math.min(numFound, ask.numRecords ?? numFound)
    if (!spec || numRequested <= 0) {
      apiError(res, 400, 'Bad Request', 'numRequested cannot be <= 0')
      return
    }
    if (options.previewLimit !== undefined && numRequested > options.previewLimit) {
      apiError(res, 403, 'Forbidden', 'Request exceeds preview record limit for your plan')
      return
    }
    const id = version === 'v3' ? String(nextV3Id++) : randomBytes(12).toString('hex')
    const request: SimRequest = {
      id,
      dataFormat: ask.format === 'JSON' ? 'json' : 'csv',
      numRequested,
      pollsUntilComplete: spec.pollsUntilComplete ?? 1,
      files: spec.files(id),
      ...(spec.finalStatus ? { finalStatus: spec.finalStatus } : {}),
      ...(spec.pollFaults ? { requestFaults: [...spec.pollFaults] } : {})
    }
    requests.set(id, request)
    created.push({
      version,
      id,
      dataType: ask.dataType,
      query: ask.query,
      format: ask.format,
      numRecords: ask.numRecords,
      view: ask.view
    })
    if (version === 'v4') {
      json(res, 202, {
        id,
        _id: 4242,
        status: 'queued',
        num_records: numRequested,
        format: ask.format,
        results: []
      })
    } else if (spec.v3Answer === 'body') {
      json(res, 200, [{ id: Number(id), status: 'STARTED', numRequested, error: '' }])
    } else {
      res.writeHead(303, { Location: `/v3/requests/${id}`, 'Content-Length': 0 })
      res.end()
    }
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
    fileConnections.now++
    fileConnections.max = Math.max(fileConnections.max, fileConnections.now)
    res.once('close', () => fileConnections.now--)
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
    if (fault && 'delay' in fault) {
      const timer = setTimeout(() => {
        file.faults?.unshift({ pass: true })
        handleFile(req, res)
      }, fault.delay)
      res.once('close', () => clearTimeout(timer))
      return
    }
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
    createCalls,
    created,
    fileConnections,
    polls: id => pollCounts.get(String(id)) ?? 0,
    stop: async () => {
      await Promise.all([close(api), close(files)])
    }
  }
}

function readBody(req: http.IncomingMessage, done: (text: string) => void): void {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')))
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
