/** What only API v3 does; the contract both clients share is in api-client.test.ts. */
import { describe, expect, it } from 'vitest'
import { FatalError, HttpStatusError, isTransient } from '../../../src/support/errors.js'
import type { TextResponse } from '../../../src/http/transport.js'
import { BASE, TOKEN, clientFor, spec, v3 } from '../../helpers/api.js'
import { httpError, rejection } from '../../helpers/errors.js'
import { json, type Answers } from '../../helpers/http.js'

const client = (answers: Answers) => clientFor(v3, answers)

const CREATED: Partial<TextResponse> = v3.created

describe('V3Client authentication', () => {
  it('sends HTTP Basic with the token as user and an empty password', async () => {
    const { client: c, calls } = client([json({ status: 'STARTED' })])
    await c.getRequest('6073')
    const [scheme, credentials] = (calls[0]?.headers['Authorization'] ?? '').split(' ')
    expect(scheme).toBe('Basic')
    expect(Buffer.from(credentials ?? '', 'base64').toString()).toBe(`${TOKEN}:`)
  })
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

  it('rejects a result that is a bare URL string: v3 lists objects', async () => {
    const { client: c } = client([json(['https://s3.example/a.csv'])])
    const error = await rejection(c.getResults('6073'))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain('GET /v3/results/6073')
    expect(error.message).toContain('result 1 has no http(s) "url"')
  })

  it('returns undefined for a 404 (results not there yet)', async () => {
    const { client: c } = client([{ status: 404, text: 'Not Found' }])
    await expect(c.getResults('1')).resolves.toBeUndefined()
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

describe('V3Client.createDownload', () => {
  it('GETs /v3/data/<type> with q, format, records and download=true', async () => {
    const { client: c, calls } = client([CREATED])
    await expect(c.createDownload(spec())).resolves.toBe('6073')
    expect(calls).toHaveLength(1)
    expect(calls[0]?.method).toBe('GET')
    const url = new URL(calls[0]?.url ?? '')
    expect(`${url.origin}${url.pathname}`).toBe(`${BASE}/v3/data/products`)
    expect(Object.fromEntries(url.searchParams)).toEqual({
      q: 'country:US AND city:"Austin"',
      format: 'CSV',
      records: '100',
      download: 'true'
    })
    expect(calls[0]?.headers['Authorization']).toBe(v3.authorization)
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
})

describe('V3Client.countMatches', () => {
  it('refuses without a request: v3 counts only what it has bought', async () => {
    const { client: c, calls } = client([])
    const error = await rejection(c.countMatches(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toMatch(/API v3 cannot count .* need 'api-version: v4'/)
    expect(calls).toEqual([])
  })

  it('has no cost to read from a request object', async () => {
    const { client: c } = client([json([{ status: 'COMPLETED', numDownloaded: 5 }])])
    await expect(c.getRequest('6073')).resolves.toMatchObject({
      numDownloaded: 5,
      totalCost: undefined
    })
  })
})
