/**
 * The S3-like file host: serves the files the API roles signed URLs for, with S3's errors, ETags,
 * byte ranges guarded by If-Range, its per-connection pace, and each file's scripted faults.
 */
import { createHash } from 'node:crypto'
import type * as http from 'node:http'
import { pipeline } from 'node:stream/promises'
import { cutAfter, flipByte, stallAfter, throttle } from './body-streams.js'
import { hostileAnswer } from './hostile.js'
import { verifySignedUrl } from './signed-urls.js'
import type { SimState } from './state.js'
import type { Fault, SimFile } from './types.js'

function s3Error(res: http.ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>SIM</RequestId></Error>`
  res.writeHead(status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body)
  })
  res.end(body)
}

function etagOf(file: SimFile): string {
  return (
    file.etag ??
    (file.body.md5
      ? `"${file.body.md5}"`
      : `"${createHash('md5').update(file.name).digest('hex')}-8"`)
  )
}

/** The answer each connection is giving. */
const answering = new WeakMap<object, http.ServerResponse>()

/** GETs each file has had, for objects that change after some. */
const served = new WeakMap<SimFile, number>()

export function handleFile(
  state: SimState,
  req: http.IncomingMessage,
  res: http.ServerResponse
): void {
  // Connections with an answer in progress: a kept-alive connection's next request can arrive
  // before its last answer's 'close', and is still one connection.
  const { fileConnections } = state
  const socket = req.socket
  if (!answering.has(socket)) fileConnections.now++
  answering.set(socket, res)
  fileConnections.max = Math.max(fileConnections.max, fileConnections.now)
  res.once('close', () => {
    if (answering.get(socket) !== res) return
    answering.delete(socket)
    fileConnections.now--
  })
  const file = admit(state, req, res)
  if (!file) return
  const gets = (served.get(file) ?? 0) + 1
  served.set(file, gets)
  if (file.changeAfter && gets > file.changeAfter.requests) {
    file.body = file.changeAfter.body
    file.etag = file.changeAfter.etag
  }
  const fault = file.faults?.shift()
  if (fault && 'delay' in fault) {
    const timer = setTimeout(() => {
      file.faults?.unshift({ pass: true })
      handleFile(state, req, res)
    }, fault.delay)
    res.once('close', () => clearTimeout(timer))
    return
  }
  if (hostileAnswer(res, fault)) return
  if (fault && 'status' in fault) {
    res.writeHead(fault.status, { 'Content-Type': 'application/xml', ...fault.headers })
    res.end(
      fault.body ??
        '<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>'
    )
    return
  }
  serve(state, req, res, file, fault)
}

/** The file a request may have, in S3's order of checks; undefined once it has answered an error. */
function admit(
  state: SimState,
  req: http.IncomingMessage,
  res: http.ServerResponse
): SimFile | undefined {
  const url = new URL(req.url ?? '/', 'http://files')
  if (req.headers.authorization) {
    s3Error(
      res,
      400,
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified'
    )
    return undefined
  }
  const signed = verifySignedUrl(state, url)
  if (!signed) {
    s3Error(res, 403, 'AccessDenied', 'Access Denied')
    return undefined
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    s3Error(
      res,
      405,
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.'
    )
    return undefined
  }
  if (signed.generation <= (signed.file.expiredUrls ?? 0)) {
    s3Error(res, 403, 'AccessDenied', 'Request has expired')
    return undefined
  }
  return signed.file
}

/** The bytes [start, end) to send and with which status; undefined if the range is unsatisfiable. */
function byteRange(
  req: http.IncomingMessage,
  file: SimFile,
  etag: string
): { status: 200 | 206; start: number; end: number } | undefined {
  const size = file.body.size
  const range = file.noRanges ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
  const ifRange = req.headers['if-range']
  if (!range || (ifRange !== undefined && ifRange !== etag && !file.ignoreIfRange))
    return { status: 200, start: 0, end: size }
  const start = Number(range[1])
  const end = range[2] ? Math.min(size, Number(range[2]) + 1) : size
  return start >= size || start >= end ? undefined : { status: 206, start, end }
}

function serve(
  state: SimState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  file: SimFile,
  fault: Fault | undefined
): void {
  const etag = etagOf(file)
  const headers: http.OutgoingHttpHeaders = {
    'Content-Type': file.name.endsWith('.csv') ? 'text/csv' : 'text/plain',
    // An empty `etag` scripts a host that sends none.
    ...(etag ? { ETag: etag } : {}),
    'Last-Modified': state.started.toUTCString(),
    ...file.headers
  }
  if (!file.noRanges) headers['Accept-Ranges'] = 'bytes'
  const size = file.body.size
  const bytes = byteRange(req, file, etag)
  if (!bytes) {
    res.writeHead(416, { 'Content-Range': `bytes */${size}` })
    res.end()
    return
  }
  const { status, start, end } = bytes
  if (status === 206) headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`
  if (file.closeDelimited) {
    // Neither a length nor chunked framing: node then ends the body by closing the connection.
    res.removeHeader('Transfer-Encoding')
    res.removeHeader('Content-Length')
    headers['Connection'] = 'close'
  } else if (!file.chunked) {
    headers['Content-Length'] = end - start
  }
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
  const middle = Math.floor(size / 2)
  if (file.corrupt && start <= middle && middle < end) {
    stages.push(
      flipByte(middle - start, () => {
        if (file.corrupt) file.corrupt--
      })
    )
  }
  const { bytesPerSecond } = state.options
  if (bytesPerSecond) stages.push(throttle(bytesPerSecond))
  if (fault && 'destroyAfter' in fault)
    stages.push(cutAfter(fault.destroyAfter, () => res.destroy()))
  if (fault && 'stallAfter' in fault) stages.push(stallAfter(fault.stallAfter, fault.ms))
  if (fault && 'shortAfter' in fault) {
    // End the body cleanly but short of Content-Length, then drop the connection as a server would.
    source.on('end', () => setImmediate(() => res.destroy()))
  }
  pipeline([source, ...stages, res] as NodeJS.ReadWriteStream[]).catch(() => res.destroy())
}
