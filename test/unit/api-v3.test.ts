import { describe, expect, it } from 'vitest'
import type { CallOptions } from '../../src/api/client.js'
import type { CallRunner } from '../../src/api/client.js'
import { V3Client } from '../../src/api/v3.js'
import type { QuerySpec } from '../../src/domain/download.js'
import { FatalError, HttpStatusError, isTransient } from '../../src/support/errors.js'
import type { Http, TextResponse } from '../../src/support/http.js'

const TOKEN = 'AbC123tokenXYZ789'
const BASIC = Buffer.from(`${TOKEN}:`).toString('base64')
const BASE = 'https://api.example.test'
const NOW = Date.UTC(2024, 0, 1)

/** The error as an HttpStatusError, failing the test when it is another kind. */
function httpError(error: unknown): HttpStatusError {
  if (!(error instanceof HttpStatusError))
    throw new Error(`expected an HttpStatusError, got ${String(error)}`)
  return error
}

interface Call {
  url: string
  headers: Record<string, string>
  limitBytes?: number | undefined
  followRedirects?: boolean | undefined
}

function fakeHttp(responses: Partial<TextResponse>[] | ((url: string) => Partial<TextResponse>)) {
  const calls: Call[] = []
  const http: Http = {
    getText: (url, headers, limitBytes, followRedirects) => {
      calls.push({ url, headers: { ...headers }, limitBytes, followRedirects })
      const r =
        typeof responses === 'function' ? responses(url) : (responses[calls.length - 1] ?? {})
      return Promise.resolve({
        status: r.status ?? 200,
        headers: r.headers ?? {},
        text: r.text ?? ''
      })
    },
    postText: () => Promise.reject(new Error('API v3 never POSTs')),
    getStream: () => Promise.reject(new Error('the API client must not stream'))
  }
  return { http, calls }
}

const passThrough: CallRunner = (_what, fn) => fn()

function client(responses: Parameters<typeof fakeHttp>[0], call: CallRunner = passThrough) {
  const { http, calls } = fakeHttp(responses)
  return {
    client: new V3Client({ http, baseUrl: BASE, token: TOKEN, call, now: () => NOW }),
    calls
  }
}

function json(body: unknown, status = 200): Partial<TextResponse> {
  return { status, text: JSON.stringify(body) }
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

function expectNoSecrets(message: string): void {
  expect(message).not.toContain(TOKEN)
  expect(message).not.toContain(BASIC)
}

describe('V3Client authentication and URLs', () => {
  it('sends HTTP Basic with the token as user and an empty password', async () => {
    const { client: c, calls } = client([json({ status: 'STARTED' })])
    await c.getRequest('6073')
    expect(calls).toHaveLength(1)
    expect(calls[0]?.headers['Authorization']).toBe(`Basic ${BASIC}`)
    expect(Buffer.from(BASIC, 'base64').toString()).toBe(`${TOKEN}:`)
    expect(calls[0]?.headers['Accept']).toBe('application/json')
  })

  it('calls /v3/requests/<id> and /v3/results/<id> under the base URL', async () => {
    const { client: c, calls } = client([
      json({ status: 'COMPLETED' }),
      json([{ url: 'https://s3.example/a.csv' }])
    ])
    await c.getRequest('6073')
    await c.getResults('6073')
    expect(calls.map(call => call.url)).toEqual([
      `${BASE}/v3/requests/6073`,
      `${BASE}/v3/results/6073`
    ])
    expect(calls[1]?.headers['Authorization']).toBe(`Basic ${BASIC}`)
  })

  it('keeps a base path and encodes the id', async () => {
    const { http, calls } = fakeHttp([json({ status: 'X' }), { status: 404 }])
    const c = new V3Client({
      http,
      baseUrl: 'http://127.0.0.1:9/api',
      token: TOKEN,
      call: passThrough,
      now: Date.now
    })
    await c.getRequest('1/2?x')
    await c.getResults('1/2?x')
    expect(calls.map(call => call.url)).toEqual([
      'http://127.0.0.1:9/api/v3/requests/1%2F2%3Fx',
      'http://127.0.0.1:9/api/v3/results/1%2F2%3Fx'
    ])
  })

  it('runs every call through the CallRunner, naming it and passing the options', async () => {
    const seen: { what: string; options: CallOptions | undefined }[] = []
    const runner: CallRunner = (what, fn, options) => {
      seen.push({ what, options })
      return fn()
    }
    const { client: c } = client(
      [json({ status: 'COMPLETED' }), json([{ url: 'https://s3.example/a.csv' }])],
      runner
    )
    await c.getRequest('6073', { deadline: 123 })
    await c.getResults('6073', { deadline: 456 })
    expect(seen).toEqual([
      { what: 'GET /v3/requests/6073', options: { deadline: 123 } },
      { what: 'GET /v3/results/6073', options: { deadline: 456 } }
    ])
  })

  it('lets the CallRunner retry: each run of fn makes a fresh request', async () => {
    const runner: CallRunner = async (_what, fn) => {
      try {
        return await fn()
      } catch {
        return fn()
      }
    }
    const { client: c, calls } = client(
      [{ status: 503, text: 'busy' }, json({ status: 'COMPLETED' })],
      runner
    )
    await expect(c.getRequest('1')).resolves.toMatchObject({ phase: 'completed' })
    expect(calls).toHaveLength(2)
  })
})

describe('V3Client.getRequest', () => {
  it('reads a one-element array body', async () => {
    const { client: c } = client([
      json([
        {
          id: 6073,
          status: 'STARTED',
          numDownloaded: 41200,
          numRequested: 95378,
          dataFormat: 'CSV',
          error: ''
        }
      ])
    ])
    await expect(c.getRequest('6073')).resolves.toEqual({
      status: 'STARTED',
      phase: 'pending',
      error: '',
      numDownloaded: 41200,
      numRequested: 95378,
      format: 'csv'
    })
  })

  it('reads a bare object body', async () => {
    const { client: c } = client([
      json({ status: 'COMPLETED', numDownloaded: 10, numRequested: 10, dataFormat: 'json' })
    ])
    await expect(c.getRequest('1')).resolves.toEqual({
      status: 'COMPLETED',
      phase: 'completed',
      error: '',
      numDownloaded: 10,
      numRequested: 10,
      format: 'json'
    })
  })

  it.each(['COMPLETED', 'completed', 'Completed', ' COMPLETED '])(
    'treats status %j as completed',
    async status => {
      const { client: c } = client([json({ status })])
      const state = await c.getRequest('1')
      expect(state.phase).toBe('completed')
      expect(state.status).toBe(status.trim())
    }
  )

  it.each(['STARTED', 'QUEUED', 'PENDING', 'RUNNING', 'COMPLETE', 'COMPLETED_PARTIAL'])(
    'treats status %j as pending',
    async status => {
      const { client: c } = client([json({ status })])
      await expect(c.getRequest('1')).resolves.toMatchObject({ phase: 'pending', status })
    }
  )

  it.each(['FAILED', 'failed', 'ERROR', 'CANCELLED', 'Canceled'])(
    'treats status %j as failed',
    async status => {
      const { client: c } = client([json({ status })])
      await expect(c.getRequest('1')).resolves.toMatchObject({ phase: 'failed' })
    }
  )

  it('treats a non-empty error as failed, even with status COMPLETED', async () => {
    const { client: c } = client([json({ status: 'COMPLETED', error: '  query timed out ' })])
    await expect(c.getRequest('1')).resolves.toMatchObject({
      phase: 'failed',
      status: 'COMPLETED',
      error: 'query timed out'
    })
  })

  it('treats an empty, blank, null or false error as no error', async () => {
    for (const error of ['', '   ', null, false]) {
      const { client: c } = client([json({ status: 'COMPLETED', error })])
      await expect(c.getRequest('1')).resolves.toMatchObject({ phase: 'completed', error: '' })
    }
  })

  it('keeps a structured error as JSON text', async () => {
    const { client: c } = client([json({ status: 'STARTED', error: { code: 7 } })])
    await expect(c.getRequest('1')).resolves.toMatchObject({
      phase: 'failed',
      error: '{"code":7}'
    })
  })

  it('reads numeric strings for the counts and ignores junk', async () => {
    const { client: c } = client([
      json({ status: 'STARTED', numDownloaded: '41200', numRequested: '95378' }),
      json({ status: 'STARTED', numDownloaded: 'lots', numRequested: null })
    ])
    await expect(c.getRequest('1')).resolves.toMatchObject({
      numDownloaded: 41200,
      numRequested: 95378
    })
    await expect(c.getRequest('1')).resolves.toMatchObject({
      numDownloaded: undefined,
      numRequested: undefined
    })
  })

  it('leaves an unknown data format undefined', async () => {
    const { client: c } = client([json({ status: 'STARTED', dataFormat: 'xml' })])
    await expect(c.getRequest('1')).resolves.toMatchObject({ format: undefined })
  })

  it.each([400, 404])(
    'turns HTTP %i into a FatalError mentioning the request-id input',
    async status => {
      const { client: c, calls } = client([{ status, text: 'not found' }])
      const error = await rejection(c.getRequest('6073'))
      expect(error).toBeInstanceOf(FatalError)
      expect(isTransient(error)).toBe(false)
      expect(error.message).toContain("'request-id'")
      expect(error.message).toContain('6073')
      expect(error.message).toContain(`HTTP ${status}`)
      expect(calls).toHaveLength(1)
    }
  )

  it.each([401, 403])('turns HTTP %i into a FatalError about the token', async status => {
    const { client: c } = client([{ status, text: `{"message":"bad token ${TOKEN}"}` }])
    const error = await rejection(c.getRequest('1'))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain("'token'")
    expectNoSecrets(error.message)
  })

  it('turns a 503 with Retry-After into a transient HttpStatusError', async () => {
    const { client: c } = client([{ status: 503, text: 'busy', headers: { 'retry-after': '3' } }])
    const error = await rejection(c.getRequest('1'))
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(httpError(error).status).toBe(503)
    expect(httpError(error).retryAfterMs).toBe(3_000)
    expect(isTransient(error)).toBe(true)
  })

  it('uses the injected clock for an HTTP-date Retry-After', async () => {
    const { client: c } = client([
      { status: 429, headers: { 'retry-after': 'Mon, 01 Jan 2024 00:00:10 GMT' } }
    ])
    const error = httpError(await rejection(c.getRequest('1')))
    expect(error.retryAfterMs).toBe(10_000)
  })

  it('redacts the token and its Basic form from a server error body', async () => {
    const { client: c } = client([
      { status: 500, text: `Internal error for Authorization: Basic ${BASIC} token=${TOKEN}` }
    ])
    const error = await rejection(c.getRequest('1'))
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error.message).toContain('GET /v3/requests/1')
    expectNoSecrets(error.message)
  })

  it('reports a non-JSON 200 naming the endpoint, not as a TypeError', async () => {
    const { client: c } = client([{ status: 200, text: '<html>Gateway</html>' }])
    const error = await rejection(c.getRequest('6073'))
    expect(error).not.toBeInstanceOf(TypeError)
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error.message).toContain('GET /v3/requests/6073')
    expect(error.message).toContain('not JSON')
  })

  it.each([
    ['an empty array', []],
    ['null', null],
    ['a number', 42],
    ['a string', 'COMPLETED'],
    ['a nested array', [[{ status: 'COMPLETED' }]]]
  ])('rejects %s as the wrong shape', async (_what, body) => {
    const { client: c } = client([json(body)])
    const error = await rejection(c.getRequest('6073'))
    expect(error).toBeInstanceOf(FatalError)
    expect(error).not.toBeInstanceOf(TypeError)
    expect(error.message).toContain('GET /v3/requests/6073')
    expect(error.message).toContain('unexpected shape')
  })

  it.each([{}, { status: '' }, { status: '  ' }, { status: 3 }, { status: null }])(
    'rejects a request without a status string: %j',
    async body => {
      const { client: c } = client([json(body)])
      const error = await rejection(c.getRequest('1'))
      expect(error).toBeInstanceOf(FatalError)
      expect(error.message).toContain('"status"')
    }
  )
})

describe('V3Client.getResults', () => {
  it('lists the result files with their expiry: date_created + 7 days', async () => {
    const { client: c } = client([
      json([
        { url: 'https://s3.example/b/6073_1.csv?sig=1', date_created: '2017-1-11 15:53:00' },
        { url: 'https://s3.example/b/6073_2.csv?sig=2', date_created: '2017-01-11T16:00:00Z' },
        { url: 'http://s3.example/b/6073_3.csv' }
      ])
    ])
    const results = await c.getResults('6073')
    expect(results).toHaveLength(3)
    expect(results?.map(r => r.url)).toEqual([
      'https://s3.example/b/6073_1.csv?sig=1',
      'https://s3.example/b/6073_2.csv?sig=2',
      'http://s3.example/b/6073_3.csv'
    ])
    expect(results?.[0]?.expiresAt?.toISOString()).toBe('2017-01-18T15:53:00.000Z')
    expect(results?.[1]?.expiresAt?.toISOString()).toBe('2017-01-18T16:00:00.000Z')
    expect(results?.[2]?.expiresAt).toBeUndefined()
  })

  it('accepts a bare result object', async () => {
    const { client: c } = client([json({ url: 'https://s3.example/x.json', date_created: 'x' })])
    await expect(c.getResults('1')).resolves.toEqual([
      { url: 'https://s3.example/x.json', expiresAt: undefined }
    ])
  })

  it('returns an empty list for an empty array', async () => {
    const { client: c } = client([json([])])
    await expect(c.getResults('1')).resolves.toEqual([])
  })

  it('returns undefined for a 404 (results not there yet)', async () => {
    const { client: c } = client([{ status: 404, text: 'Not Found' }])
    await expect(c.getResults('1')).resolves.toBeUndefined()
  })

  it.each([
    ['no url', [{ date_created: '2017-1-11' }]],
    ['a non-string url', [{ url: 42 }]],
    ['a relative url', [{ url: '/files/a.csv' }]],
    ['an ftp url', [{ url: 'ftp://host/a.csv' }]],
    ['an unparseable url', [{ url: 'https://' }]],
    ['a null item', [null]],
    ['a string item', ['https://s3.example/a.csv']],
    ['one good one bad', [{ url: 'https://s3.example/a.csv' }, {}]]
  ])('rejects a result with %s', async (_what, body) => {
    const { client: c } = client([json(body)])
    const error = await rejection(c.getResults('6073'))
    expect(error).toBeInstanceOf(FatalError)
    expect(error).not.toBeInstanceOf(TypeError)
    expect(error.message).toContain('GET /v3/results/6073')
    expect(error.message).toMatch(/result \d+ has no http\(s\) "url"/)
  })

  it('names the failing result by its 1-based position', async () => {
    const { client: c } = client([json([{ url: 'https://s3.example/a.csv' }, {}])])
    const error = await rejection(c.getResults('1'))
    expect(error.message).toContain('result 2 has no')
  })

  it('reports a non-JSON 200 naming the endpoint', async () => {
    const { client: c } = client([{ status: 200, text: 'oops' }])
    const error = await rejection(c.getResults('6073'))
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error.message).toContain('GET /v3/results/6073')
  })

  it('fails for statuses other than 200 and 404', async () => {
    const { client: c } = client([
      { status: 401, text: '' },
      { status: 500, text: 'boom' },
      { status: 400, text: 'bad' }
    ])
    await expect(c.getResults('1')).rejects.toBeInstanceOf(FatalError)
    const server = await rejection(c.getResults('1'))
    expect(server).toBeInstanceOf(HttpStatusError)
    expect(httpError(server).status).toBe(500)
    const bad = await rejection(c.getResults('1'))
    expect(httpError(bad).status).toBe(400)
    expect(isTransient(bad)).toBe(false)
  })

  it('does not echo a signed URL or the token from a malformed body', async () => {
    const { client: c } = client([
      json([{ link: `https://s3.example/${TOKEN}/a.csv?X-Amz-Signature=SIGVALUE` }])
    ])
    const error = await rejection(c.getResults('1'))
    expectNoSecrets(error.message)
    expect(error.message).not.toContain('SIGVALUE')
  })
})

describe('V3Client.getResults expiry', () => {
  const signed =
    'https://s3.example/b/6073_1.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T120000Z&X-Amz-Expires=3600&X-Amz-Signature=abc'

  it("falls back to the URL's own expiry without date_created", async () => {
    const { client: c } = client([json([{ url: signed }])])
    const results = await c.getResults('6073')
    expect(results?.[0]?.expiresAt?.toISOString()).toBe('2024-01-01T13:00:00.000Z')
  })

  it("prefers date_created + 7 days to the URL's expiry", async () => {
    const { client: c } = client([json([{ url: signed, date_created: '2024-1-1 00:00:00' }])])
    const results = await c.getResults('6073')
    expect(results?.[0]?.expiresAt?.toISOString()).toBe('2024-01-08T00:00:00.000Z')
  })

  it('falls back to the URL when date_created is garbage', async () => {
    const { client: c } = client([json([{ url: signed, date_created: 'yesterday' }])])
    const results = await c.getResults('6073')
    expect(results?.[0]?.expiresAt?.toISOString()).toBe('2024-01-01T13:00:00.000Z')
  })
})

const SPEC: QuerySpec = {
  query: 'country:US AND city:"Austin"',
  dataType: 'products',
  format: 'CSV',
  numRecords: 100,
  view: undefined
}

function spec(extra: Partial<QuerySpec> = {}): QuerySpec {
  return { ...SPEC, ...extra }
}

const CREATED: Partial<TextResponse> = { status: 303, headers: { location: '/v3/requests/6073' } }

describe('V3Client.createDownload', () => {
  it('GETs /v3/data/<type> with q, format, records and download=true', async () => {
    const { client: c, calls } = client([CREATED])
    await expect(c.createDownload(spec())).resolves.toBe('6073')
    expect(calls).toHaveLength(1)
    const url = new URL(calls[0]?.url ?? '')
    expect(`${url.origin}${url.pathname}`).toBe(`${BASE}/v3/data/products`)
    expect(Object.fromEntries(url.searchParams)).toEqual({
      q: 'country:US AND city:"Austin"',
      format: 'CSV',
      records: '100',
      download: 'true'
    })
    expect(calls[0]?.headers['Authorization']).toBe(`Basic ${BASIC}`)
  })

  it('uses the data type in the path and the JSON format', async () => {
    const { client: c, calls } = client([CREATED])
    await c.createDownload(spec({ dataType: 'businesses', format: 'JSON' }))
    const url = new URL(calls[0]?.url ?? '')
    expect(url.pathname).toBe('/v3/data/businesses')
    expect(url.searchParams.get('format')).toBe('JSON')
  })

  it("omits records for 'all'", async () => {
    const { client: c, calls } = client([CREATED])
    await c.createDownload(spec({ numRecords: 'all' }))
    const url = new URL(calls[0]?.url ?? '')
    expect(url.searchParams.has('records')).toBe(false)
    expect(url.searchParams.get('download')).toBe('true')
  })

  it('sets view when given and only then', async () => {
    const { client: c, calls } = client([CREATED, CREATED])
    await c.createDownload(spec({ view: 'product_basic' }))
    await c.createDownload(spec())
    expect(new URL(calls[0]?.url ?? '').searchParams.get('view')).toBe('product_basic')
    expect(new URL(calls[1]?.url ?? '').searchParams.has('view')).toBe(false)
  })

  it('encodes a query with reserved characters so that it round-trips', async () => {
    const query = 'name:"A&B" AND price:>10 OR x=1+2 #tag'
    const { client: c, calls } = client([CREATED])
    await c.createDownload(spec({ query }))
    const url = new URL(calls[0]?.url ?? '')
    expect(url.searchParams.get('q')).toBe(query)
    expect(url.searchParams.get('download')).toBe('true')
    expect(url.hash).toBe('')
  })

  it('keeps a base path', async () => {
    const { http, calls } = fakeHttp([CREATED])
    const c = new V3Client({
      http,
      baseUrl: 'http://127.0.0.1:9/api',
      token: TOKEN,
      call: passThrough,
      now: Date.now
    })
    await c.createDownload(spec())
    expect(calls[0]?.url.startsWith('http://127.0.0.1:9/api/v3/data/products?')).toBe(true)
  })

  it('asks the client not to follow redirects (the 4th argument of getText is false)', async () => {
    const { client: c, calls } = client([CREATED])
    await c.createDownload(spec())
    expect(calls[0]?.followRedirects).toBe(false)
  })

  it.each([301, 302, 303, 307])(
    'takes the id from the Location of a %i, relative or absolute',
    async status => {
      const { client: c } = client([
        { status, headers: { location: '/v3/requests/6073' } },
        { status, headers: { location: 'https://api.datafiniti.co/v3/requests/42' } }
      ])
      await expect(c.createDownload(spec())).resolves.toBe('6073')
      await expect(c.createDownload(spec())).resolves.toBe('42')
    }
  )

  it.each([
    ['an array with a numeric id', [{ id: 6073, status: 'STARTED' }]],
    ['an object with a string id', { id: '6073' }],
    ['an object with a numeric id', { id: 6073 }]
  ])('takes the id from a 200 body: %s', async (_what, body) => {
    const { client: c } = client([json(body)])
    await expect(c.createDownload(spec())).resolves.toBe('6073')
  })

  it('accepts a 201 body too', async () => {
    const { client: c } = client([json({ id: 7 }, 201)])
    await expect(c.createDownload(spec())).resolves.toBe('7')
  })

  it.each([
    ['no Location', {}],
    ['a Location without a request id', { location: '/v3/data/products' }],
    ['a non-numeric request id', { location: '/v3/requests/abc' }]
  ])('rejects a 3xx with %s', async (_what, headers) => {
    const { client: c } = client([{ status: 303, headers }])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain('GET /v3/data/products')
    expect(error.message).toContain('/v3/requests/{id}')
  })

  it.each([
    ['no id', { status: 'STARTED' }],
    ['an empty array', []],
    ['a non-numeric id', { id: 'abc' }],
    ['a fractional id', { id: 60.5 }],
    ['a null id', { id: null }],
    ['null', null]
  ])('rejects a 200 body with %s', async (_what, body) => {
    const { client: c } = client([json(body)])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error).not.toBeInstanceOf(TypeError)
    expect(error.message).toContain('GET /v3/data/products')
    expect(error.message).toContain('"id"')
  })

  it('reports a non-JSON 200 naming the endpoint', async () => {
    const { client: c } = client([{ status: 200, text: '<html>' }])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error.message).toContain('GET /v3/data/products')
  })

  it('explains a query that matched no records', async () => {
    const { client: c } = client([
      { status: 400, text: '{"message":"numRequested cannot be <= 0"}' }
    ])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain('matched no records')
    expect(error.message).toContain("'query'")
  })

  it('explains the plan limit naming num-records', async () => {
    const { client: c } = client([
      { status: 400, text: '{"message":"Request exceeds preview record limit of 10"}' }
    ])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain("'num-records'")
    expect(error.message).toContain('plan')
  })

  it.each([401, 403])('turns HTTP %i into a token error without secrets', async status => {
    const { client: c } = client([{ status, text: `bad token ${TOKEN} / ${BASIC}` }])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain("'token'")
    expectNoSecrets(error.message)
  })

  it('makes a 503 final, saying that a retry could create a second download', async () => {
    const { client: c } = client([{ status: 503, text: 'busy' }])
    const error = await rejection(c.createDownload(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(isTransient(error)).toBe(false)
    expect(error.message).toContain('not retried')
    expect(error.message).toContain('HTTP 503')
  })

  it('runs through the CallRunner with idempotent: false, naming the endpoint', async () => {
    const seen: { what: string; options: CallOptions | undefined }[] = []
    const runner: CallRunner = (what, fn, options) => {
      seen.push({ what, options })
      return fn()
    }
    const { client: c } = client([CREATED], runner)
    await c.createDownload(spec({ dataType: 'properties' }))
    expect(seen).toEqual([{ what: 'GET /v3/data/properties', options: { idempotent: false } }])
  })
})
