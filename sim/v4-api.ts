/** The v4 API: create by POSTing a JSON search, and one download object for status and files. */
import type * as http from 'node:http'
import { apiError, json, statusFault } from './api-shared.js'
import { createDownload } from './create.js'
import { matchQuery } from './query-match.js'
import { poll, resultUrls } from './lifecycle.js'
import { signedUrl } from './signed-urls.js'
import type { SimState } from './state.js'

/** Answers a v4 path; false if it is not one. */
export function routeV4(
  state: SimState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL
): boolean {
  let match: RegExpExecArray | null
  if (req.method === 'GET' && (match = /^\/v4\/downloads\/([^/]+)$/.exec(url.pathname))) {
    download(state, res, decodeURIComponent(match[1] ?? ''))
  } else if (req.method === 'POST' && (match = /^\/v4\/([^/]+)\/search$/.exec(url.pathname))) {
    const dataType = match[1] ?? ''
    readBody(req, text => search(state, res, url.pathname, dataType, text))
  } else {
    return false
  }
  return true
}

function download(state: SimState, res: http.ServerResponse, id: string): void {
  const request = state.requests.get(id)
  if (!request) {
    apiError(res, 404, 'Not Found', 'Download not found')
    return
  }
  if (statusFault(res, request.requestFaults)) return
  const { done, share, polls } = poll(state, id, request)
  const total = request.numRequested ?? 1000
  const status = done
    ? (request.finalStatus ?? 'completed').toLowerCase()
    : (request.pendingStatus ?? (polls === 1 ? 'queued' : 'running'))
  const failed = done && status !== 'completed'
  // `results` fills in as the download runs: clients must wait for `completed` to use it.
  const urls = done && !failed ? resultUrls(state, id, request) : []
  const partial = done
    ? urls
    : request.files
        .slice(0, Math.floor(request.files.length * share))
        .map(file => signedUrl(state, file, 1))
  json(res, 200, {
    id,
    _id: 4242,
    status,
    num_records: total,
    num_downloaded: Math.floor(total * share),
    // One credit a record unless scripted otherwise; charged as the records are delivered.
    total_cost: Math.floor((request.totalCost ?? total) * share),
    format: (request.dataFormat ?? 'csv').toUpperCase(),
    data_type: 'properties',
    date_started: state.started.toISOString(),
    date_updated: new Date().toISOString(),
    user_id: 'user-0001',
    results: failed ? [] : partial
  })
}

function search(
  state: SimState,
  res: http.ServerResponse,
  path: string,
  dataType: string,
  text: string
): void {
  let body: Record<string, unknown>
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    apiError(res, 400, 'Bad Request', 'Request body must be JSON')
    return
  }
  const num = body['num_records']
  if (body['download'] !== true) {
    count(state, res, dataType, body)
    return
  }
  const format = typeof body['format'] === 'string' ? body['format'].toUpperCase() : 'JSON'
  const made = createDownload(state, res, 'v4', path, {
    dataType,
    query: typeof body['query'] === 'string' ? body['query'] : '',
    format,
    numRecords: typeof num === 'number' ? num : undefined,
    view: typeof body['view'] === 'string' ? body['view'] : undefined,
    download: true
  })
  if (!made) return
  json(res, 202, {
    id: made.id,
    _id: 4242,
    status: 'queued',
    num_records: made.numRequested,
    format,
    results: []
  })
}

/**
 * A search without `download`: the matches (`num_found`) and a preview of `num_records` of them,
 * charged a credit each (`total_cost`); nothing is created. A query the simulator does not know
 * matches nothing.
 */
function count(
  state: SimState,
  res: http.ServerResponse,
  dataType: string,
  body: Record<string, unknown>
): void {
  const query = typeof body['query'] === 'string' ? body['query'] : ''
  const num = typeof body['num_records'] === 'number' ? body['num_records'] : undefined
  state.counts.push({ query, dataType, numRecords: num })
  const { spec, records, invalid } = matchQuery(state.options, query)
  if (statusFault(res, spec?.countFaults)) return
  if (invalid !== undefined) {
    apiError(res, 400, 'Bad Request', invalid)
    return
  }
  const numFound = records?.length ?? spec?.numFound ?? 0
  const returned = Math.min(numFound, num ?? 10)
  json(res, 200, {
    num_found: numFound,
    num_records: returned,
    total_cost: returned,
    records: Array.from({ length: returned }, (_, i) => ({ id: `record-${i + 1}`, dataType }))
  })
}

function readBody(req: http.IncomingMessage, done: (text: string) => void): void {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')))
}
