import type {
  CallOptions,
  CallRunner,
  ClientContext,
  DatafinitiClient
} from '../../src/api/client.js'
import { V3Client } from '../../src/api/v3.js'
import { V4Client } from '../../src/api/v4.js'
import type { QuerySpec } from '../../src/domain/model.js'
import type { TextResponse } from '../../src/http/transport.js'
import { fakeHttp, json, type Answers, type HttpCall } from './http.js'

export const TOKEN = 'AbC123tokenXYZ789'
export const BASIC = Buffer.from(`${TOKEN}:`).toString('base64')
export const BASE = 'https://api.example.test'
/** What the clients' `now` says: HTTP-date Retry-After values count from it. */
export const NOW = Date.UTC(2024, 0, 1)

export const SPEC: QuerySpec = {
  query: 'country:US AND city:"Austin"',
  dataType: 'products',
  format: 'CSV',
  numRecords: 100,
  view: undefined
}

export function spec(extra: Partial<QuerySpec> = {}): QuerySpec {
  return { ...SPEC, ...extra }
}

/** A download's state in DownloadState's names; each version spells them its own way. */
export interface StateFields {
  status?: unknown
  numDownloaded?: unknown
  numRequested?: unknown
  format?: unknown
  error?: unknown
}

/** What the shared client tests need to know of one API version. */
export interface ApiVersion {
  name: 'v3' | 'v4'
  client(ctx: ClientContext): DatafinitiClient
  /** A well-formed id of an existing download. */
  id: string
  authorization: string
  /** What no error may show: the token and every form of it that the version sends. */
  secrets: string[]
  /** The status words this version uses for a running and a finished download. */
  running: string
  completed: string
  statuses: Record<'pending' | 'completed' | 'failed', string[]>
  requestEndpoint(id: string): string
  resultsEndpoint(id: string): string
  createEndpoint(dataType: string): string
  /** The body of a request (v3) or download (v4) object with these fields. */
  download(fields: StateFields): Record<string, unknown>
  /** The answer that lists these result items (v4: inside a completed download). */
  results(items: unknown[]): Partial<TextResponse>
  /** One well-formed result item for a URL, in this version's usual form. */
  item(url: string): unknown
  /** An answer to getResults meaning "not yet". */
  notReady: Partial<TextResponse>
  /** The answer to a create that made the download `id`. */
  created: Partial<TextResponse>
  /** How an error describes a result item without a usable URL; group 1 is its position. */
  badResult: RegExp
  /** 2xx create answers without a usable id. */
  idlessBodies: [string, unknown][]
  /** The query that a create call sent, with QuerySpec's names: only what was sent. */
  sent(call: HttpCall | undefined): Record<string, unknown>
}

/** The method and path of an endpoint, as errors and the CallRunner name it. */
const endpoint = (method: string, path: string): string => `${method} ${path}`

export const v3: ApiVersion = {
  name: 'v3',
  client: ctx => new V3Client(ctx),
  id: '6073',
  authorization: `Basic ${BASIC}`,
  secrets: [TOKEN, BASIC],
  running: 'STARTED',
  completed: 'COMPLETED',
  statuses: {
    pending: ['STARTED', 'QUEUED', 'PENDING', 'RUNNING', 'COMPLETE', 'COMPLETED_PARTIAL'],
    completed: ['COMPLETED', 'completed', 'Completed', ' COMPLETED '],
    failed: ['FAILED', 'failed', 'ERROR', 'CANCELLED', 'Canceled']
  },
  requestEndpoint: id => endpoint('GET', `/v3/requests/${id}`),
  resultsEndpoint: id => endpoint('GET', `/v3/results/${id}`),
  createEndpoint: dataType => endpoint('GET', `/v3/data/${dataType}`),
  download: ({ numDownloaded, numRequested, format, ...rest }) => ({
    ...rest,
    numDownloaded,
    numRequested,
    dataFormat: format
  }),
  results: items => json(items),
  item: url => ({ url }),
  notReady: { status: 404, text: 'Not Found' },
  created: { status: 303, headers: { location: '/v3/requests/6073' } },
  badResult: /result (\d+) has no http\(s\) "url"/,
  idlessBodies: [
    ['no id', { status: 'STARTED' }],
    ['an empty array', []],
    ['a non-numeric id', { id: 'abc' }],
    ['a fractional id', { id: 60.5 }],
    ['a null id', { id: null }],
    ['null', null]
  ],
  sent: call => {
    const { q, records, download, ...rest } = Object.fromEntries(
      new URL(call?.url ?? '').searchParams
    )
    return {
      ...(q === undefined ? {} : { query: q }),
      ...rest,
      ...(records === undefined ? {} : { numRecords: Number(records) }),
      ...(download === undefined ? {} : { download: download === 'true' ? true : download })
    }
  }
}

const V4_ID = '5f1e2d3c4b5a69788796a5b4'

export const v4: ApiVersion = {
  name: 'v4',
  client: ctx => new V4Client(ctx),
  id: V4_ID,
  authorization: `Bearer ${TOKEN}`,
  secrets: [TOKEN],
  running: 'running',
  completed: 'completed',
  statuses: {
    pending: ['queued', 'running', 'in_progress', 'started', 'pending', 'QUEUED', 'Running', 'new'],
    completed: ['completed', 'COMPLETED', 'Completed', ' completed '],
    failed: ['cancelled', 'canceled', 'failed', 'error', 'CANCELLED', 'Failed']
  },
  requestEndpoint: id => endpoint('GET', `/v4/downloads/${id}`),
  resultsEndpoint: id => endpoint('GET', `/v4/downloads/${id}`),
  createEndpoint: dataType => endpoint('POST', `/v4/${dataType}/search`),
  download: ({ numDownloaded, numRequested, ...rest }) => ({
    ...rest,
    num_downloaded: numDownloaded,
    num_records: numRequested
  }),
  results: items => json({ status: 'completed', results: items }),
  item: url => url,
  notReady: json({ status: 'running' }),
  created: json({ id: V4_ID, status: 'queued' }, 201),
  badResult: /result (\d+) is not an http\(s\) URL/,
  idlessBodies: [
    ['no id', { status: 'queued' }],
    ['an empty id', { id: '' }],
    ['a blank id', { id: '  ' }],
    ['a null id', { id: null }],
    ['an object id', { id: { $oid: V4_ID } }],
    ['an array', [{ id: V4_ID }]],
    ['null', null]
  ],
  sent: call => {
    const { num_records: numRecords, ...rest } = JSON.parse(call?.body ?? '{}') as Record<
      string,
      unknown
    >
    return numRecords === undefined ? rest : { ...rest, numRecords }
  }
}

const passThrough: CallRunner = (_what, fn) => fn()

/** A CallRunner that runs fn once and records what it was asked to run. */
export function recordingRunner(): {
  runner: CallRunner
  seen: { what: string; options: CallOptions | undefined }[]
} {
  const seen: { what: string; options: CallOptions | undefined }[] = []
  const runner: CallRunner = (what, fn, options) => {
    seen.push({ what, options })
    return fn()
  }
  return { runner, seen }
}

/** A client of `version` over a fake Http that answers with `answers`, and the calls it made. */
export function clientFor(
  version: ApiVersion,
  answers: Answers,
  options: { call?: CallRunner; baseUrl?: string } = {}
): { client: DatafinitiClient; calls: HttpCall[] } {
  const { http, calls } = fakeHttp(answers)
  const client = version.client({
    http,
    baseUrl: options.baseUrl ?? BASE,
    token: TOKEN,
    call: options.call ?? passThrough,
    now: () => NOW
  })
  return { client, calls }
}
