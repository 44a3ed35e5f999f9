/** What only API v4 does; the contract both clients share is in api-client.test.ts. */
import { describe, expect, it } from 'vitest'
import { FatalError } from '../../../src/support/errors.js'
import { BASE, TOKEN, clientFor, spec, v4 } from '../../helpers/api.js'
import { rejection } from '../../helpers/errors.js'
import { json, type Answers, type HttpCall } from '../../helpers/http.js'

const ID = v4.id

const client = (answers: Answers) => clientFor(v4, answers)

function sentBody(call: HttpCall | undefined): unknown {
  return JSON.parse(call?.body ?? 'null') as unknown
}

const SIGNED_1 =
  'https://bucket.s3.amazonaws.com/d/1.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T120000Z&X-Amz-Expires=604800&X-Amz-Signature=aaa'
const SIGNED_2 =
  'https://bucket.s3.amazonaws.com/d/2.csv?X-Amz-Date=20240102T000000Z&X-Amz-Expires=3600&X-Amz-Signature=bbb'

describe('V4Client.createDownload', () => {
  it('POSTs the query as JSON to /v4/<type>/search', async () => {
    const { client: c, calls } = client([json({ id: ID, status: 'queued' }, 201)])
    await expect(c.createDownload(spec({ dataType: 'people' }))).resolves.toBe(ID)
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

  it('returns a string id as is and a numeric id as a string', async () => {
    const { client: c } = client([json({ id: 'abc-123' }), json({ id: 6073 })])
    await expect(c.createDownload(spec())).resolves.toBe('abc-123')
    await expect(c.createDownload(spec())).resolves.toBe('6073')
  })
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

  it('rejects a completed download without a results array', async () => {
    const { client: c } = client([json({ status: 'completed', results: 'soon' })])
    const error = await rejection(c.getResults(ID))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain(`GET /v4/downloads/${ID}`)
    expect(error.message).toContain('"results"')
  })

  it('turns a 404 into a FatalError mentioning request-id', async () => {
    const { client: c } = client([{ status: 404 }])
    const error = await rejection(c.getResults(ID))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain("'request-id'")
  })
})

describe('V4Client.countMatches', () => {
  it('POSTs a search without download for one record, and reads num_found and total_cost', async () => {
    const { client: c, calls } = client([
      json({ num_found: 95_378, num_records: 1, total_cost: 1, records: [{ id: 'r1' }] })
    ])
    await expect(
      c.countMatches(spec({ dataType: 'businesses', view: 'business_basic' }))
    ).resolves.toEqual({
      numFound: 95_378,
      cost: 1
    })
    expect(calls).toHaveLength(1)
    expect(calls[0]?.method).toBe('POST')
    expect(calls[0]?.url).toBe(`${BASE}/v4/businesses/search`)
    expect(calls[0]?.headers['Authorization']).toBe(`Bearer ${TOKEN}`)
    // The very query a create would send; never `download`, so nothing is created.
    expect(sentBody(calls[0])).toEqual({ query: 'country:US AND city:"Austin"', num_records: 1 })
  })

  it('takes a numeric string, and no total_cost as an unknown cost', async () => {
    const { client: c } = client([json({ num_found: '0' })])
    await expect(c.countMatches(spec())).resolves.toEqual({ numFound: 0, cost: undefined })
  })

  it('refuses an answer without num_found, naming the endpoint', async () => {
    const { client: c } = client([json({ records: [] })])
    const error = await rejection(c.countMatches(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain('POST /v4/products/search')
    expect(error.message).toContain('"num_found"')
  })

  it('fails a rejected token as final, without echoing it', async () => {
    const { client: c } = client([json({ message: 'Unauthorized' }, 401)])
    const error = await rejection(c.countMatches(spec()))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toMatch(/Datafiniti rejected the token/)
    expect(error.message).not.toContain(TOKEN)
  })
})

describe('V4Client.getRequest', () => {
  it("reads the download's total_cost", async () => {
    const { client: c } = client([
      json({ status: 'completed', num_records: 10, num_downloaded: 10, total_cost: 12 })
    ])
    await expect(c.getRequest(ID)).resolves.toMatchObject({ numDownloaded: 10, totalCost: 12 })
  })
})
