/** The v3 API: create by GET with a query string, status polls, and `/results` with signed URLs. */
import type * as http from 'node:http'
import { apiError, json, statusFault } from './api-shared.js'
import { createDownload } from './create.js'
import { isComplete, poll, resultUrls } from './lifecycle.js'
import type { SimState } from './state.js'
import type { SimRequest } from './types.js'

/** Answers a v3 path; false if it is not one. */
export function routeV3(
  state: SimState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL
): boolean {
  if (req.method !== 'GET') return false
  let match: RegExpExecArray | null
  if ((match = /^\/v3\/(requests|results)\/([^/]+)$/.exec(url.pathname))) {
    v3Request(state, res, match[1] as Kind, decodeURIComponent(match[2] ?? ''))
  } else if ((match = /^\/v3\/data\/([^/]+)$/.exec(url.pathname))) {
    createFromQuery(state, res, url, match[1] ?? '')
  } else {
    return false
  }
  return true
}

type Kind = 'requests' | 'results'

/** The documented answers to an id that names no request differ by endpoint. */
const UNKNOWN_ID = {
  requests: [400, 'Bad Request', 'Invalid request ID'],
  results: [500, 'Internal Server Error', 'An unexpected error occurred on the server']
} as const

function v3Request(state: SimState, res: http.ServerResponse, kind: Kind, id: string): void {
  const request = /^\d+$/.test(id) ? state.requests.get(id) : undefined
  if (!request) {
    const [status, error, message] = UNKNOWN_ID[kind]
    apiError(res, status, error, message)
    return
  }
  if (kind === 'requests') {
    if (!statusFault(res, request.requestFaults)) requestStatus(state, res, id, request)
  } else if (!statusFault(res, request.resultFaults)) {
    requestResults(state, res, id, request)
  }
}

function v3Date(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0')
  return (
    `${date.getUTCFullYear()}-${date.getUTCMonth() + 1}-${date.getUTCDate()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
  )
}

function requestStatus(
  state: SimState,
  res: http.ServerResponse,
  id: string,
  request: SimRequest
): void {
  const { done, share } = poll(state, id, request)
  const total = request.numRequested ?? 1000
  let status = done ? (request.finalStatus ?? 'COMPLETED') : (request.pendingStatus ?? 'STARTED')
  if (request.statusCase === 'lower') status = status.toLowerCase()
  const object = {
    id: Number(id),
    records: '',
    query: 'country:US',
    dataType: 'properties',
    dataFormat: request.dataFormat ?? 'csv',
    accountId: state.options.token, // real responses can echo the token: clients must not log this
    planId: 'free',
    view: 'properties_all_nested',
    async: 1,
    status,
    error: done ? (request.error ?? '') : '',
    numDownloaded: Math.floor(total * share),
    numFound: total,
    numRequested: total,
    date_started: v3Date(state.started),
    date_completed: done ? v3Date(new Date()) : ''
  }
  json(res, 200, request.shape === 'object' ? object : [object])
}

function requestResults(
  state: SimState,
  res: http.ServerResponse,
  id: string,
  request: SimRequest
): void {
  const calls = state.resultCalls.get(id) ?? 0
  const notYet = calls < (request.resultsNotReady ?? 0)
  const complete = isComplete(state, id, request)
  if (!complete || request.error || notYet) {
    if (complete && notYet) state.resultCalls.set(id, calls + 1)
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
    resultUrls(state, id, request).map((url, index) => ({
      id: index + 1,
      url,
      request_id: Number(id),
      downloaded: 42,
      imported: 42,
      date_created: request.files[index]?.dateCreated ?? v3Date(state.started)
    }))
  )
}

function createFromQuery(
  state: SimState,
  res: http.ServerResponse,
  url: URL,
  dataType: string
): void {
  const q = url.searchParams
  const records = q.get('records')
  const made = createDownload(state, res, 'v3', url.pathname, {
    dataType,
    query: q.get('q') ?? '',
    format: (q.get('format') ?? 'CSV').toUpperCase(),
    numRecords: records === null ? undefined : Number(records),
    view: q.get('view') ?? undefined,
    download: q.get('download') === 'true'
  })
  if (!made) return
  const { id, numRequested, spec } = made
  if (spec.v3Answer === 'body') {
    json(res, 200, [{ id: Number(id), status: 'STARTED', numRequested, error: '' }])
  } else {
    res.writeHead(303, { Location: `/v3/requests/${id}`, 'Content-Length': 0 })
    res.end()
  }
}
