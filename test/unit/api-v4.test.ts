import { describe, expect, it } from 'vitest'
import type { CallOptions } from '../../src/api/client.js'
import type { CallRunner } from '../../src/api/client.js'
import { V4Client } from '../../src/api/v4.js'
import { FatalError, HttpStatusError, isTransient } from '../../src/support/errors.js'
import type { Http, TextResponse } from '../../src/support/http.js'
import type { QuerySpec } from '../../src/domain/download.js'

const TOKEN = 'v4SecretTokenXYZ789'
const BASE = 'https://api.example.test'
const NOW = Date.UTC(2024, 0, 1)
const ID = '5f1e2d3c4b5a69788796a5b4'

interface Call {
  method: 'GET' | 'POST'
  url: string
  headers: Record<string, string>
  body?: string | undefined
  followRedirects?: boolean | undefined
}

type Responses = Partial<TextResponse>[] | ((url: string) => Partial<TextResponse>)

/** Answers GETs and POSTs alike from one list, in call order. */
function fakeHttp(responses: Responses) {
  const calls: Call[] = []
  const answer = (url: string): Promise<TextResponse> => {
    const r = typeof responses === 'function' ? responses(url) : (responses[calls.length - 1] ?? {})
    return Promise.resolve({
      status: r.status ?? 200,
      headers: r.headers ?? {},
      text: r.text ?? ''
    })
  }
  const http: Http = {
    getText: (url, headers, _limitBytes, followRedirects) => {
      calls.push({ method: 'GET', url, headers: { ...headers }, followRedirects })
      return answer(url)
    },
    postText: (url, headers, body) => {
      calls.push({ method: 'POST', url, headers: { ...headers }, body })
      return answer(url)
    },
    getStream: () => Promise.reject(new Error('the API client must not stream'))
  }
  return { http, calls }
}

const passThrough: CallRunner = (_what, fn) => fn()

function client(responses: Responses, call: CallRunner = passThrough) {
  const { http, calls } = fakeHttp(responses)
  return {
    client: new V4Client({ http, baseUrl: BASE, token: TOKEN, call, now: () => NOW }),
    calls
  }
}

/** A CallRunner that runs fn once and records what it was asked to run. */
function recordingRunner() {
  const seen: { what: string; options: CallOptions | undefined }[] = []
  const runner: CallRunner = (what, fn, options) => {
    seen.push({ what, options })
    return fn()
  }
  return { runner, seen }
}

function json(body: unknown, status = 200): Partial<TextResponse> {
  return { status, text: JSON.stringify(body) }
}

/** The error as an HttpStatusError, failing the test when it is another kind. */
function httpError(error: unknown): HttpStatusError {
  if (!(error instanceof HttpStatusError))
    throw new Error(`expected an HttpStatusError, got ${String(error)}`)
  return error
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(Error)
    return error as Error
  }
  throw new Error('expected a rejection')
}

const SPEC: QuerySpec = {
  query: 'country:US AND city:"Austin"',
  dataType: 'people',
  format: 'CSV',
  numRecords: 100,
  view: undefined
}

function spec(extra: Partial<QuerySpec> = {}): QuerySpec {
  return { ...SPEC, ...extra }
}

function sentBody(call: Call | undefined): unknown {
  return JSON.parse(call?.body ?? 'null') as unknown
}

const SIGNED_1 =
  'https://bucket.s3.amazonaws.com/d/1.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T120000Z&X-Amz-Expires=604800&X-Amz-Signature=aaa'
const SIGNED_2 =
  'https://bucket.s3.amazonaws.com/d/2.csv?X-Amz-Date=20240102T000000Z&X-Amz-Expires=3600&X-Amz-Signature=bbb'

describe('V4Client authentication and URLs', () => {
  it('sends the token as a Bearer token and asks for JSON', async () => {
    const { client: c, calls } = client([json({ status: 'running' })])
    await c.getRequest(ID)
    expect(calls[0]?.headers['Authorization']).toBe(`Bearer ${TOKEN}`)
    expect(calls[0]?.headers['Accept']).toBe('application/json')
  })

  it('reads status and results from /v4/downloads/<id> under the base URL', async () => {
    const { client: c, calls } = client([
      json({ status: 'completed', results: [SIGNED_1] }),
      json({ status: 'completed', results: [SIGNED_1] })
    ])
    await c.getRequest(ID)
    await c.getResults(ID)
    expect(calls.map(call => `${call.method} ${call.url}`)).toEqual([
      `GET ${BASE}/v4/downloads/${ID}`,
      `GET ${BASE}/v4/downloads/${ID}`
    ])
    expect(calls[1]?.headers['Authorization']).toBe(`Bearer ${TOKEN}`)
  })

  it('keeps a base path and encodes the id', async () => {
    const { http, calls } = fakeHttp([json({ status: 'running' })])
    const c = new V4Client({
      http,
      baseUrl: 'http://127.0.0.1:9/api',
      token: TOKEN,
      call: passThrough,
      now: Date.now
    })
    await c.getRequest('a/b?c')
    expect(calls[0]?.url).toBe('http://127.0.0.1:9/api/v4/downloads/a%2Fb%3Fc')
  })

  it('runs reads through the CallRunner with their name and options', async () => {
    const { runner, seen } = recordingRunner()
    const { client: c } = client(
      [
        json({ status: 'completed', results: [SIGNED_1] }),
        json({ status: 'completed', results: [] })
      ],
      runner
    )
    await c.getRequest(ID, { deadline: 123 })
    await c.getResults(ID, { deadline: 456 })
    expect(seen).toEqual([
      { what: `GET /v4/downloads/${ID}`, options: { deadline: 123 } },
      { what: `GET /v4/downloads/${ID}`, options: { deadline: 456 } }
    ])
  })
})

describe('V4Client.createDownload', () => {
  it('POSTs the query as JSON to /v4/<type>/search', async () => {
    const { client: c, calls } = client([json({ id: ID, status: 'queued' }, 201)])
    await expect(c.createDownload(spec())).resolves.toBe(ID)
    expect(calls).toHaveLength(1)
    expect(calls[0]?.method).toBe('POST')
    expect(calls[0]?.url).toBe(`${BASE}/v4/people/search`)
    expect(calls[0]?.headers['Authorization']).toBe(`Bearer ${TOKEN}`)
    expect(calls[0]?.headers['Content-Type']).toBe('application/json')
    expect(calls[0]?.headers['Accept']).toBe('application/json')
    expect(sentBody(calls[0])).toEqual({
      query: 'country:US AND city:"Austin"',
      format: 'CSV',
      download: true,
      num_records: 100
    })
  })

  it('uses the data type in the path and sends the format as given', async () => {
    const { client: c, calls } = client([json({ id: ID })])
    await c.createDownload(spec({ dataType: 'properties', format: 'JSON' }))
    expect(calls[0]?.url).toBe(`${BASE}/v4/properties/search`)
    expect(sentBody(calls[0])).toMatchObject({ format: 'JSON' })
  })

  it("omits num_records for 'all'", async () => {
    const { client: c, calls } = client([json({ id: ID })])
    await c.createDownload(spec({ numRecords: 'all' }))
    const body = sentBody(calls[0]) as Record<string, unknown>
    expect(body).not.toHaveProperty('num_records')
    expect(body).toEqual({ query: SPEC.query, format: 'CSV', download: true })
  })

  it('includes view when set, and only then', async () => {
    const { client: c, calls } = client([json({ id: ID }), json({ id: ID })])
    await c.createDownload(spec({ view: 'people_basic' }))
    await c.createDownload(spec())
    expect(sentBody(calls[0])).toMatchObject({ view: 'people_basic' })
    expect(sentBody(calls[1])).not.toHaveProperty('view')
  })

  it('sends the query text unchanged, quotes and all', async () => {
    const query = 'name:"O\'Brien" AND age:>30 & x=1+2'
    const { client: c, calls } = client([json({ id: ID })])
    await c.createDownload(spec({ query }))
    expect(sentBody(calls[0])).toMatchObject({ query })
  })

  it('returns a string id as is and a numeric id as a string', async () => {
    const { client: c } = client([json({ id: 'abc-123' }), json({ id: 6073 })])
    await expect(c.createDownload(spec())).resolves.toBe('abc-123')
    await expect(c.createDownload(spec())).resolves.toBe('6073')
  })

  it('runs through the CallRunner once, with idempotent: false', async () => {
    const { runner, seen } = recordingRunner()
    const { client: c } = client([json({ id: ID })], runner)
    await c.createDownload(spec({ dataType: 'products' }))
    expect(seen).toEqual([{ what: 'POST /v4/products/search', options: { idempotent: false } }])
  })

  it.each([
    ['no id', { status: 'queued' }],
    ['an empty id', { id: '' }],
    ['a blank id', { id: '  ' }],
    ['a null id', { id: null }],
    ['an object id', { id: { $oid: ID } }],
    ['an array', [{ id: ID }]],
    ['null', null]
  ])('rejects a 2xx answer with %s', async (_what, body) => {
    const { client: c } = client([json(body)])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error).not.toBeInstanceOf(TypeError)
    expect(error.message).toContain('POST /v4/people/search')
    expect(error.message).toContain('"id"')
  })

  it('reports a non-JSON 2xx naming the endpoint', async () => {
    const { client: c } = client([{ status: 200, text: '<html>proxy</html>' }])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error.message).toContain('POST /v4/people/search')
    expect(error.message).toContain('not JSON')
  })

  it('explains a query that matched no records', async () => {
    const { client: c } = client([json({ message: 'numRequested cannot be <= 0' }, 400)])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain('matched no records')
    expect(error.message).toContain("'query'")
  })

  it('explains the plan limit naming num-records', async () => {
    const { client: c } = client([json({ error: 'Request exceeds preview record limit' }, 400)])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain("'num-records'")
  })

  it('turns a 401 into a token error that does not echo the token', async () => {
    const { client: c } = client([{ status: 401, text: `{"message":"invalid bearer ${TOKEN}"}` }])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain("'token'")
    expect(error.message).not.toContain(TOKEN)
  })

  it('makes a 503 final, saying that a retry could create a second download', async () => {
    const { client: c, calls } = client([{ status: 503, text: 'unavailable' }])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(isTransient(error)).toBe(false)
    expect(error.message).toContain('not retried')
    expect(error.message).toContain('HTTP 503')
    expect(calls).toHaveLength(1)
  })
})

describe('V4Client.getRequest', () => {
  it('reads a running download with its progress and format', async () => {
    const { client: c } = client([
      json({
        id: ID,
        status: 'running',
        num_downloaded: 41200,
        num_records: 95378,
        format: 'CSV'
      })
    ])
    await expect(c.getRequest(ID)).resolves.toEqual({
      status: 'running',
      phase: 'pending',
      error: '',
      numDownloaded: 41200,
      numRequested: 95378,
      format: 'csv'
    })
  })

  it('reads numeric strings for the counts and ignores junk', async () => {
    const { client: c } = client([
      json({ status: 'running', num_downloaded: '5', num_records: '10', format: 'json' }),
      json({ status: 'running', num_downloaded: 'many', num_records: null, format: 'xml' })
    ])
    await expect(c.getRequest(ID)).resolves.toMatchObject({
      numDownloaded: 5,
      numRequested: 10,
      format: 'json'
    })
    await expect(c.getRequest(ID)).resolves.toMatchObject({
      numDownloaded: undefined,
      numRequested: undefined,
      format: undefined
    })
  })

  it.each(['queued', 'running', 'in_progress', 'started', 'pending', 'QUEUED', 'Running', 'new'])(
    'treats status %j as pending',
    async status => {
      const { client: c } = client([json({ status })])
      await expect(c.getRequest(ID)).resolves.toMatchObject({ phase: 'pending', status })
    }
  )

  it.each(['completed', 'COMPLETED', 'Completed', ' completed '])(
    'treats status %j as completed',
    async status => {
      const { client: c } = client([json({ status })])
      const state = await c.getRequest(ID)
      expect(state.phase).toBe('completed')
      expect(state.status).toBe(status.trim())
    }
  )

  it.each(['cancelled', 'canceled', 'failed', 'error', 'CANCELLED', 'Failed'])(
    'treats status %j as failed',
    async status => {
      const { client: c } = client([json({ status })])
      await expect(c.getRequest(ID)).resolves.toMatchObject({ phase: 'failed' })
    }
  )

  it('treats a non-empty error as failed, even when completed', async () => {
    const { client: c } = client([json({ status: 'completed', error: ' out of credits ' })])
    await expect(c.getRequest(ID)).resolves.toMatchObject({
      phase: 'failed',
      error: 'out of credits'
    })
  })

  it('reads a one-element array body', async () => {
    const { client: c } = client([json([{ status: 'completed' }])])
    await expect(c.getRequest(ID)).resolves.toMatchObject({ phase: 'completed' })
  })

  it.each([400, 404])(
    'turns HTTP %i into a FatalError mentioning the request-id input',
    async status => {
      const { client: c, calls } = client([{ status, text: 'not found' }])
      const error = await rejection(c.getRequest(ID))
      expect(error).toBeInstanceOf(FatalError)
      expect(isTransient(error)).toBe(false)
      expect(error.message).toContain("'request-id'")
      expect(error.message).toContain(ID)
      expect(error.message).toContain(`HTTP ${status}`)
      expect(calls).toHaveLength(1)
    }
  )

  it.each([401, 403])('turns HTTP %i into a token error without the token', async status => {
    const { client: c } = client([{ status, text: `Bearer ${TOKEN} rejected` }])
    const error = await rejection(c.getRequest(ID))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain("'token'")
    expect(error.message).not.toContain(TOKEN)
  })

  it('turns a 503 with Retry-After into a transient HttpStatusError', async () => {
    const { client: c } = client([{ status: 503, headers: { 'retry-after': '4' } }])
    const error = await rejection(c.getRequest(ID))
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(httpError(error).retryAfterMs).toBe(4_000)
    expect(isTransient(error)).toBe(true)
  })

  it('uses the injected clock for an HTTP-date Retry-After', async () => {
    const { client: c } = client([
      { status: 429, headers: { 'retry-after': 'Mon, 01 Jan 2024 00:00:05 GMT' } }
    ])
    const error = await rejection(c.getRequest(ID))
    expect(httpError(error).retryAfterMs).toBe(5_000)
  })

  it('reports a non-JSON 200 naming GET /v4/downloads/<id>', async () => {
    const { client: c } = client([{ status: 200, text: '<html>Gateway</html>' }])
    const error = await rejection(c.getRequest(ID))
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error).not.toBeInstanceOf(TypeError)
    expect(error.message).toContain(`GET /v4/downloads/${ID}`)
    expect(error.message).toContain('not JSON')
  })

  it.each([
    ['an empty array', []],
    ['null', null],
    ['a string', 'completed'],
    ['a nested array', [[{ status: 'completed' }]]]
  ])('rejects %s as the wrong shape', async (_what, body) => {
    const { client: c } = client([json(body)])
    const error = await rejection(c.getRequest(ID))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain(`GET /v4/downloads/${ID}`)
    expect(error.message).toContain('unexpected shape')
  })

  it.each([{}, { status: '' }, { status: 3 }, { status: null }])(
    'rejects a download without a status string: %j',
    async body => {
      const { client: c } = client([json(body)])
      const error = await rejection(c.getRequest(ID))
      expect(error).toBeInstanceOf(FatalError)
      expect(error.message).toContain('"status"')
    }
  )
})

describe('V4Client.getResults', () => {
  it.each(['queued', 'running', 'in_progress', 'started', 'failed', 'cancelled'])(
    'is undefined while the download is %s, even with partial results',
    async status => {
      const { client: c } = client([json({ status, results: [SIGNED_1] })])
      await expect(c.getResults(ID)).resolves.toBeUndefined()
    }
  )

  it('lists URL strings once completed, each expiring as its URL says', async () => {
    const { client: c } = client([json({ status: 'COMPLETED', results: [SIGNED_1, SIGNED_2] })])
    const results = await c.getResults(ID)
    expect(results?.map(r => r.url)).toEqual([SIGNED_1, SIGNED_2])
    expect(results?.map(r => r.expiresAt?.toISOString())).toEqual([
      '2024-01-08T12:00:00.000Z',
      '2024-01-02T01:00:00.000Z'
    ])
  })

  it('accepts result objects with a url', async () => {
    const { client: c } = client([
      json({ status: 'completed', results: [{ url: SIGNED_1, size: 10 }] })
    ])
    await expect(c.getResults(ID)).resolves.toEqual([
      { url: SIGNED_1, expiresAt: new Date('2024-01-08T12:00:00.000Z') }
    ])
  })

  it('leaves expiresAt undefined for a URL without an expiry', async () => {
    const { client: c } = client([
      json({ status: 'completed', results: ['https://files.example/d/1.csv'] })
    ])
    await expect(c.getResults(ID)).resolves.toEqual([
      { url: 'https://files.example/d/1.csv', expiresAt: undefined }
    ])
  })

  it('returns an empty list for a completed download without files', async () => {
    const { client: c } = client([json({ status: 'completed', results: [] })])
    await expect(c.getResults(ID)).resolves.toEqual([])
  })

  it('rejects a completed download without a results array', async () => {
    const { client: c } = client([json({ status: 'completed', results: 'soon' })])
    const error = await rejection(c.getResults(ID))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain(`GET /v4/downloads/${ID}`)
    expect(error.message).toContain('"results"')
  })

  it.each([
    ['a relative path', ['/files/1.csv']],
    ['an ftp URL', ['ftp://host/1.csv']],
    ['a number', [42]],
    ['null', [null]],
    ['an object without url', [{ href: SIGNED_1 }]],
    ['an unparseable URL', ['https://']],
    ['one good one bad', [SIGNED_1, 'nope']]
  ])('rejects a result that is %s', async (_what, results) => {
    const { client: c } = client([json({ status: 'completed', results })])
    const error = await rejection(c.getResults(ID))
    expect(error).toBeInstanceOf(FatalError)
    expect(error).not.toBeInstanceOf(TypeError)
    expect(error.message).toContain(`GET /v4/downloads/${ID}`)
    expect(error.message).toMatch(/result \d+ is not an http\(s\) URL/)
  })

  it('names the failing result by its 1-based position', async () => {
    const { client: c } = client([json({ status: 'completed', results: [SIGNED_1, 7] })])
    const error = await rejection(c.getResults(ID))
    expect(error.message).toContain('result 2 is not')
  })

  it('does not echo the token or a signature from a malformed body', async () => {
    const { client: c } = client([
      json({
        status: 'completed',
        results: [{ href: `https://s3.example/${TOKEN}/a.csv?X-Amz-Signature=SIGVALUE` }]
      })
    ])
    const error = await rejection(c.getResults(ID))
    expect(error.message).not.toContain(TOKEN)
    expect(error.message).not.toContain('SIGVALUE')
  })

  it('reports a non-JSON 200 naming GET /v4/downloads/<id>', async () => {
    const { client: c } = client([{ status: 200, text: 'oops' }])
    const error = await rejection(c.getResults(ID))
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error.message).toContain(`GET /v4/downloads/${ID}`)
  })

  it('turns a 404 into a FatalError mentioning request-id', async () => {
    const { client: c } = client([{ status: 404 }])
    const error = await rejection(c.getResults(ID))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain("'request-id'")
  })
})
