/**
 * The DatafinitiClient contract, run against both API versions: what each version says differently
 * (paths, field names, status words) comes from its adapter in test/helpers/api.ts. What only one
 * version does is tested in api-v3.test.ts and api-v4.test.ts.
 */
import { describe, expect, it } from 'vitest'
import type { CallRunner } from '../../../src/api/client.js'
import { FatalError, HttpStatusError, isTransient } from '../../../src/support/errors.js'
import {
  BASE,
  SPEC,
  TOKEN,
  clientFor,
  recordingRunner,
  spec,
  v3,
  v4,
  type StateFields
} from '../../helpers/api.js'
import { httpError, rejection } from '../../helpers/errors.js'
import { json, type Answers } from '../../helpers/http.js'
import { expectFreeOf } from '../../helpers/leaks.js'

const FILE = 'https://s3.example/a.csv'

/** An endpoint as errors name it (`GET /v3/requests/1`), as the call the fake Http saw. */
const callTo = (base: string, endpoint: string): string => endpoint.replace(' ', ` ${base}`)

describe.each([v3, v4].map(v => [v.name, v] as const))('API %s client', (_name, v) => {
  const ID = v.id
  const client = (answers: Answers, options?: Parameters<typeof clientFor>[2]) =>
    clientFor(v, answers, options)
  const status = (fields: StateFields) => json(v.download(fields))
  const files = (...urls: string[]) => v.results(urls.map(url => v.item(url)))

  describe('authentication and URLs', () => {
    it('sends its Authorization and asks for JSON', async () => {
      const { client: c, calls } = client([status({ status: v.running })])
      await c.getRequest(ID)
      expect(calls).toHaveLength(1)
      expect(calls[0]?.headers['Authorization']).toBe(v.authorization)
      expect(calls[0]?.headers['Accept']).toBe('application/json')
    })

    it('reads status and results under the base URL', async () => {
      const { client: c, calls } = client([status({ status: v.completed }), files(FILE)])
      await c.getRequest(ID)
      await c.getResults(ID)
      expect(calls.map(call => `${call.method} ${call.url}`)).toEqual([
        callTo(BASE, v.requestEndpoint(ID)),
        callTo(BASE, v.resultsEndpoint(ID))
      ])
      expect(calls[1]?.headers['Authorization']).toBe(v.authorization)
    })

    it('keeps a base path and encodes the id', async () => {
      const { client: c, calls } = client([status({ status: v.running }), v.notReady], {
        baseUrl: 'http://127.0.0.1:9/api'
      })
      await c.getRequest('1/2?x')
      await expect(c.getResults('1/2?x')).resolves.toBeUndefined()
      expect(calls.map(call => `${call.method} ${call.url}`)).toEqual([
        callTo('http://127.0.0.1:9/api', v.requestEndpoint('1%2F2%3Fx')),
        callTo('http://127.0.0.1:9/api', v.resultsEndpoint('1%2F2%3Fx'))
      ])
    })

    it('runs every read through the CallRunner, naming it and passing the options', async () => {
      const { runner, seen } = recordingRunner()
      const { client: c } = client([status({ status: v.completed }), files(FILE)], {
        call: runner
      })
      await c.getRequest(ID, { deadline: 123 })
      await c.getResults(ID, { deadline: 456 })
      expect(seen).toEqual([
        { what: v.requestEndpoint(ID), options: { deadline: 123 } },
        { what: v.resultsEndpoint(ID), options: { deadline: 456 } }
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
        [{ status: 503, text: 'busy' }, status({ status: v.completed })],
        { call: runner }
      )
      await expect(c.getRequest(ID)).resolves.toMatchObject({ phase: 'completed' })
      expect(calls).toHaveLength(2)
    })
  })

  describe('getRequest', () => {
    const running = { status: v.running, numDownloaded: 41200, numRequested: 95378, format: 'CSV' }
    const runningState = {
      status: v.running,
      phase: 'pending',
      error: '',
      numDownloaded: 41200,
      numRequested: 95378,
      format: 'csv'
    }

    it('reads a running download with its progress and format', async () => {
      const { client: c } = client([status(running)])
      await expect(c.getRequest(ID)).resolves.toEqual(runningState)
    })

    it('reads a one-element array body', async () => {
      const { client: c } = client([json([{ id: ID, ...v.download({ ...running, error: '' }) }])])
      await expect(c.getRequest(ID)).resolves.toEqual(runningState)
    })

    it('reads a completed download', async () => {
      const { client: c } = client([
        status({ status: v.completed, numDownloaded: 10, numRequested: 10, format: 'json' })
      ])
      await expect(c.getRequest(ID)).resolves.toEqual({
        status: v.completed,
        phase: 'completed',
        error: '',
        numDownloaded: 10,
        numRequested: 10,
        format: 'json'
      })
    })

    it.each(v.statuses.completed)('treats status %j as completed', async word => {
      const { client: c } = client([status({ status: word })])
      const state = await c.getRequest(ID)
      expect(state.phase).toBe('completed')
      expect(state.status).toBe(word.trim())
    })

    it.each(v.statuses.pending)('treats status %j as pending', async word => {
      const { client: c } = client([status({ status: word })])
      await expect(c.getRequest(ID)).resolves.toMatchObject({ phase: 'pending', status: word })
    })

    it.each(v.statuses.failed)('treats status %j as failed', async word => {
      const { client: c } = client([status({ status: word })])
      await expect(c.getRequest(ID)).resolves.toMatchObject({ phase: 'failed' })
    })

    it('treats a non-empty error as failed, even when completed', async () => {
      const { client: c } = client([status({ status: v.completed, error: '  query timed out ' })])
      await expect(c.getRequest(ID)).resolves.toMatchObject({
        phase: 'failed',
        status: v.completed,
        error: 'query timed out'
      })
    })

    it('treats an empty, blank, null or false error as no error', async () => {
      for (const error of ['', '   ', null, false]) {
        const { client: c } = client([status({ status: v.completed, error })])
        await expect(c.getRequest(ID)).resolves.toMatchObject({ phase: 'completed', error: '' })
      }
    })

    it('keeps a structured error as JSON text', async () => {
      const { client: c } = client([status({ status: v.running, error: { code: 7 } })])
      await expect(c.getRequest(ID)).resolves.toMatchObject({
        phase: 'failed',
        error: '{"code":7}'
      })
    })

    it('reads numeric strings for the counts and ignores junk', async () => {
      const { client: c } = client([
        status({ status: v.running, numDownloaded: '5', numRequested: '10', format: 'json' }),
        status({ status: v.running, numDownloaded: 'many', numRequested: null, format: 'xml' })
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

    it('leaves an unknown data format undefined', async () => {
      const { client: c } = client([status({ status: v.running, format: 'xml' })])
      await expect(c.getRequest(ID)).resolves.toMatchObject({ format: undefined })
    })

    it.each([400, 404])(
      'turns HTTP %i into a FatalError mentioning the request-id input',
      async code => {
        const { client: c, calls } = client([{ status: code, text: 'not found' }])
        const error = await rejection(c.getRequest(ID))
        expect(error).toBeInstanceOf(FatalError)
        expect(isTransient(error)).toBe(false)
        expect(error.message).toContain("'request-id'")
        expect(error.message).toContain(ID)
        expect(error.message).toContain(`HTTP ${code}`)
        expect(calls).toHaveLength(1)
      }
    )

    it.each([401, 403])(
      'turns HTTP %i into a FatalError about the token, without secrets',
      async code => {
        // The message is quoted from a JSON body, else the body's start is: both are redacted.
        const { client: c } = client([
          { status: code, text: `{"message":"bad token ${TOKEN}"}` },
          { status: code, text: `${v.authorization} rejected` }
        ])
        for (let i = 0; i < 2; i++) {
          const error = await rejection(c.getRequest(ID))
          expect(error).toBeInstanceOf(FatalError)
          expect(error.message).toContain("'token'")
          expectFreeOf(error.message, v.secrets)
        }
      }
    )

    it('turns a 503 with Retry-After into a transient HttpStatusError', async () => {
      const { client: c } = client([{ status: 503, text: 'busy', headers: { 'retry-after': '3' } }])
      const error = await rejection(c.getRequest(ID))
      expect(error).toBeInstanceOf(HttpStatusError)
      expect(httpError(error).status).toBe(503)
      expect(httpError(error).retryAfterMs).toBe(3_000)
      expect(isTransient(error)).toBe(true)
    })

    it('uses the injected clock for an HTTP-date Retry-After', async () => {
      const { client: c } = client([
        { status: 429, headers: { 'retry-after': 'Mon, 01 Jan 2024 00:00:10 GMT' } }
      ])
      const error = httpError(await rejection(c.getRequest(ID)))
      expect(error.retryAfterMs).toBe(10_000)
    })

    it('redacts the token and every form of it from a server error body', async () => {
      const { client: c } = client([
        { status: 500, text: `Internal error for Authorization: ${v.authorization} token=${TOKEN}` }
      ])
      const error = await rejection(c.getRequest(ID))
      expect(error).toBeInstanceOf(HttpStatusError)
      expect(error.message).toContain(v.requestEndpoint(ID))
      expectFreeOf(error.message, v.secrets)
    })

    it('reports a non-JSON 200 naming the endpoint, not as a TypeError', async () => {
      const { client: c } = client([{ status: 200, text: '<html>Gateway</html>' }])
      const error = await rejection(c.getRequest(ID))
      expect(error).not.toBeInstanceOf(TypeError)
      expect(error).toBeInstanceOf(HttpStatusError)
      expect(error.message).toContain(v.requestEndpoint(ID))
      expect(error.message).toContain('not JSON')
    })

    it.each([
      ['an empty array', []],
      ['null', null],
      ['a number', 42],
      ['a string', v.completed],
      ['a nested array', [[{ status: v.completed }]]]
    ])('rejects %s as the wrong shape', async (_what, body) => {
      const { client: c } = client([json(body)])
      const error = await rejection(c.getRequest(ID))
      expect(error).toBeInstanceOf(FatalError)
      expect(error).not.toBeInstanceOf(TypeError)
      expect(error.message).toContain(v.requestEndpoint(ID))
      expect(error.message).toContain('unexpected shape')
    })

    it.each([{}, { status: '' }, { status: '  ' }, { status: 3 }, { status: null }])(
      'rejects an answer without a status string: %j',
      async body => {
        const { client: c } = client([json(body)])
        const error = await rejection(c.getRequest(ID))
        expect(error).toBeInstanceOf(FatalError)
        expect(error.message).toContain('"status"')
      }
    )
  })

  describe('getResults', () => {
    it('returns an empty list for a download without files', async () => {
      const { client: c } = client([v.results([])])
      await expect(c.getResults(ID)).resolves.toEqual([])
    })

    it('leaves expiresAt undefined for a URL without an expiry', async () => {
      const { client: c } = client([v.results([v.item('https://files.example/d/1.csv')])])
      await expect(c.getResults(ID)).resolves.toEqual([
        { url: 'https://files.example/d/1.csv', expiresAt: undefined }
      ])
    })

    it.each([
      ['no url', [{ date_created: '2017-1-11' }]],
      ['an object without url', [{ href: FILE }]],
      ['a non-string url', [{ url: 42 }]],
      ['a number', [42]],
      ['a relative url', [v.item('/files/a.csv')]],
      ['an ftp url', [v.item('ftp://host/a.csv')]],
      ['an unparseable url', [v.item('https://')]],
      ['a null item', [null]],
      ['one good one bad', [v.item(FILE), {}]]
    ])('rejects a result with %s', async (_what, items) => {
      const { client: c } = client([v.results(items)])
      const error = await rejection(c.getResults(ID))
      expect(error).toBeInstanceOf(FatalError)
      expect(error).not.toBeInstanceOf(TypeError)
      expect(error.message).toContain(v.resultsEndpoint(ID))
      expect(error.message).toMatch(v.badResult)
    })

    it('names the failing result by its 1-based position', async () => {
      const { client: c } = client([v.results([v.item(FILE), 7])])
      const error = await rejection(c.getResults(ID))
      expect(v.badResult.exec(error.message)?.[1]).toBe('2')
    })

    it('reports a non-JSON 200 naming the endpoint', async () => {
      const { client: c } = client([{ status: 200, text: 'oops' }])
      const error = await rejection(c.getResults(ID))
      expect(error).toBeInstanceOf(HttpStatusError)
      expect(error.message).toContain(v.resultsEndpoint(ID))
    })

    it('does not echo a signed URL or the token from a malformed body', async () => {
      const { client: c } = client([
        v.results([{ link: `https://s3.example/${TOKEN}/a.csv?X-Amz-Signature=SIGVALUE` }])
      ])
      const error = await rejection(c.getResults(ID))
      expectFreeOf(error.message, [...v.secrets, 'SIGVALUE'])
    })
  })

  describe('createDownload', () => {
    const created = v.created

    it('uses the data type in the path and sends the format as given', async () => {
      const { client: c, calls } = client([created])
      await c.createDownload(spec({ dataType: 'businesses', format: 'JSON' }))
      const url = new URL(calls[0]?.url ?? '')
      expect(`${calls[0]?.method ?? ''} ${url.pathname}`).toBe(v.createEndpoint('businesses'))
      expect(v.sent(calls[0])).toMatchObject({ format: 'JSON' })
    })

    it("omits the record count for 'all'", async () => {
      const { client: c, calls } = client([created])
      await c.createDownload(spec({ numRecords: 'all' }))
      expect(v.sent(calls[0])).not.toHaveProperty('numRecords')
      expect(v.sent(calls[0])).toEqual({ query: SPEC.query, format: 'CSV', download: true })
    })

    it('sends view when given, and only then', async () => {
      const { client: c, calls } = client([created, created])
      await c.createDownload(spec({ view: 'product_basic' }))
      await c.createDownload(spec())
      expect(v.sent(calls[0])).toMatchObject({ view: 'product_basic' })
      expect(v.sent(calls[1])).not.toHaveProperty('view')
    })

    it('sends a query with quotes and reserved characters so that it round-trips', async () => {
      const query = 'name:"O\'Brien" OR name:"A&B" AND price:>10 OR x=1+2 #tag'
      const { client: c, calls } = client([created])
      await c.createDownload(spec({ query }))
      expect(v.sent(calls[0])).toMatchObject({ query, download: true })
      expect(new URL(calls[0]?.url ?? '').hash).toBe('')
    })

    it('keeps a base path', async () => {
      const { client: c, calls } = client([created], { baseUrl: 'http://127.0.0.1:9/api' })
      await c.createDownload(spec())
      const url = calls[0]?.url.split('?')[0] ?? ''
      expect(`${calls[0]?.method ?? ''} ${url}`).toBe(
        callTo('http://127.0.0.1:9/api', v.createEndpoint('products'))
      )
    })

    it.each(v.idlessBodies)('rejects a 2xx answer with %s', async (_what, body) => {
      const { client: c } = client([json(body)])
      const error = await rejection(c.createDownload(spec()))
      expect(error).toBeInstanceOf(FatalError)
      expect(error).not.toBeInstanceOf(TypeError)
      expect(error.message).toContain(v.createEndpoint('products'))
      expect(error.message).toContain('"id"')
    })

    it('reports a non-JSON 2xx naming the endpoint', async () => {
      const { client: c } = client([{ status: 200, text: '<html>proxy</html>' }])
      const error = await rejection(c.createDownload(spec()))
      expect(error).toBeInstanceOf(HttpStatusError)
      expect(error.message).toContain(v.createEndpoint('products'))
      expect(error.message).toContain('not JSON')
    })

    it('explains a query that matched no records', async () => {
      const { client: c } = client([json({ message: 'numRequested cannot be <= 0' }, 400)])
      const error = await rejection(c.createDownload(spec()))
      expect(error).toBeInstanceOf(FatalError)
      expect(error.message).toContain('matched no records')
      expect(error.message).toContain("'query'")
    })

    it('explains the plan limit naming num-records, from "message" or "error"', async () => {
      const { client: c } = client([
        json({ message: 'Request exceeds preview record limit of 10' }, 400),
        json({ error: 'Request exceeds preview record limit' }, 400)
      ])
      for (let i = 0; i < 2; i++) {
        const error = await rejection(c.createDownload(spec()))
        expect(error).toBeInstanceOf(FatalError)
        expect(error.message).toContain("'num-records'")
        expect(error.message).toContain('plan')
      }
    })

    it.each([401, 403])('turns HTTP %i into a token error without secrets', async code => {
      const { client: c } = client([
        { status: code, text: `{"message":"invalid token ${TOKEN}"}` },
        { status: code, text: `bad token ${TOKEN} / ${v.authorization}` }
      ])
      for (let i = 0; i < 2; i++) {
        const error = await rejection(c.createDownload(spec()))
        expect(error).toBeInstanceOf(FatalError)
        expect(error.message).toContain("'token'")
        expectFreeOf(error.message, v.secrets)
      }
    })

    it('makes a 503 final, saying that a retry could create a second download', async () => {
      const { client: c, calls } = client([{ status: 503, text: 'busy' }])
      const error = await rejection(c.createDownload(spec()))
      expect(error).toBeInstanceOf(FatalError)
      expect(isTransient(error)).toBe(false)
      expect(error.message).toContain('not retried')
      expect(error.message).toContain('HTTP 503')
      expect(calls).toHaveLength(1)
    })

    it('runs through the CallRunner once, with idempotent: false, naming the endpoint', async () => {
      const { runner, seen } = recordingRunner()
      const { client: c } = client([created], { call: runner })
      await c.createDownload(spec({ dataType: 'properties' }))
      expect(seen).toEqual([
        { what: v.createEndpoint('properties'), options: { idempotent: false } }
      ])
    })
  })
})
