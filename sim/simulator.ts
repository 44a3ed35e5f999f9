/**
 * A faithful Datafiniti simulator for tests, the demo and the benchmark: the v3 request/results API
 * on one port and an S3-like file host with pre-signed URLs on another, both on 127.0.0.1. Its
 * behaviour follows shared/reference/datafiniti-api.md, not the action's code.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream/promises'
import { cutAfter, stallAfter, throttle } from './body-streams.js'
import type {
  CreatedDownload,
  Fault,
  LoggedRequest,
  SimFile,
  SimOptions,
  SimRequest,
  Simulator
} from './types.js'

export { bufferBody, repeatBody } from './bodies.js'
export type {
  CreatedDownload,
  Fault,
  FileBody,
  LoggedRequest,
  SimFile,
  SimOptions,
  SimQuery,
  SimRequest,
  Simulator
} from './types.js'

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
