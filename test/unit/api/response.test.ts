import { describe, expect, it } from 'vitest'
import { expiryFromCreated, expiryFromUrl, parseApiDate } from '../../../src/api/expiry.js'
import {
  apiMessage,
  bodyStart,
  failCreate,
  failForStatus,
  optionalNumber,
  parseJson,
  wrongShape
} from '../../../src/api/response.js'
import { FatalError, HttpStatusError, isTransient } from '../../../src/support/errors.js'
import type { TextResponse } from '../../../src/http/transport.js'
import { httpError, thrown } from '../../helpers/errors.js'

const TOKEN = 'secrettoken12345'
const ENDPOINT = 'GET /v3/requests/6073'

function res(status: number, text: string, headers: TextResponse['headers'] = {}): TextResponse {
  return { status, headers, text }
}

describe('parseApiDate', () => {
  it('reads the v3 form without padding or zone as UTC', () => {
    expect(parseApiDate('2017-1-11 15:53:00')?.toISOString()).toBe('2017-01-11T15:53:00.000Z')
  })

  it('reads a bare date as UTC midnight', () => {
    expect(parseApiDate('2017-1-11')?.toISOString()).toBe('2017-01-11T00:00:00.000Z')
    expect(parseApiDate('2017-01-11')?.toISOString()).toBe('2017-01-11T00:00:00.000Z')
  })

  it('reads hours and minutes without seconds', () => {
    expect(parseApiDate('2017-1-11 5:03')?.toISOString()).toBe('2017-01-11T05:03:00.000Z')
  })

  it('reads ISO-8601 with Z, fractions and offsets', () => {
    expect(parseApiDate('2017-01-11T15:53:00Z')?.toISOString()).toBe('2017-01-11T15:53:00.000Z')
    expect(parseApiDate('2017-01-11T15:53:00z')?.toISOString()).toBe('2017-01-11T15:53:00.000Z')
    expect(parseApiDate('2017-01-11T15:53:00.123Z')?.toISOString()).toBe('2017-01-11T15:53:00.123Z')
    expect(parseApiDate('2017-01-11T15:53:00.5Z')?.toISOString()).toBe('2017-01-11T15:53:00.500Z')
    expect(parseApiDate('2017-01-11T15:53:00+02:00')?.toISOString()).toBe(
      '2017-01-11T13:53:00.000Z'
    )
    expect(parseApiDate('2017-01-11T15:53:00-05:30')?.toISOString()).toBe(
      '2017-01-11T21:23:00.000Z'
    )
    expect(parseApiDate('2017-01-11T15:53:00+0200')?.toISOString()).toBe('2017-01-11T13:53:00.000Z')
    expect(parseApiDate('2017-01-11 15:53:00 +00:00')?.toISOString()).toBe(
      '2017-01-11T15:53:00.000Z'
    )
  })

  it('agrees with Date.parse on ISO strings with a zone', () => {
    for (const iso of [
      '2024-02-29T23:59:59Z',
      '2024-02-29T23:59:59.999+01:00',
      '1999-12-31T00:00:00-11:00'
    ]) {
      expect(parseApiDate(iso)?.getTime()).toBe(Date.parse(iso))
    }
  })

  it('trims surrounding white space', () => {
    expect(parseApiDate('  2017-1-11 15:53:00 \n')?.toISOString()).toBe('2017-01-11T15:53:00.000Z')
  })

  it.each([
    'garbage',
    '',
    '2017',
    '2017-01',
    '11/01/2017',
    'Jan 11 2017',
    '2017-01-11T',
    '2017-01-11 15',
    '2017-01-11T15:53:00+2',
    '2017-01-11T15:53:00 EST',
    '20170111'
  ])('returns undefined for %j', value => {
    expect(parseApiDate(value)).toBeUndefined()
  })

  // Date.UTC would roll a non-existent date over into a real one (2017-13-45 → 2018-02-14).
  it.each(['2017-13-45', '2017-02-30 10:00:00', '2017-01-11 25:61:61'])(
    'returns undefined for the out-of-range date %j',
    value => {
      expect(parseApiDate(value)).toBeUndefined()
    }
  )

  it.each([undefined, null, 1484149980000, {}, ['2017-1-11']])(
    'returns undefined for the non-string %j',
    value => {
      expect(parseApiDate(value)).toBeUndefined()
    }
  )
})

describe('optionalNumber', () => {
  it.each([
    [41200, 41200],
    [0, 0],
    [1.5, 1.5],
    ['41200', 41200],
    [' 7 ', 7],
    ['2.5', 2.5]
  ])('reads %j as %j', (value, expected) => {
    expect(optionalNumber(value)).toBe(expected)
  })

  it.each([NaN, Infinity, '', 'abc', '-1', '1e3', '1,000', null, undefined, true, {}])(
    'ignores %j',
    value => {
      expect(optionalNumber(value)).toBeUndefined()
    }
  )
})

describe('bodyStart', () => {
  it('flattens white space to one line', () => {
    expect(bodyStart('  a\n\tb\r\n  c  ', [])).toBe('a b c')
  })

  it('cuts at 200 characters with an ellipsis', () => {
    const out = bodyStart('x'.repeat(500), [])
    expect(out).toBe(`${'x'.repeat(200)}…`)
    expect(bodyStart('y'.repeat(200), [])).toBe('y'.repeat(200))
  })

  it('redacts secrets and signed URLs', () => {
    const out = bodyStart(
      `bad token ${TOKEN} for https://s3.example/bucket/${TOKEN}/f.csv?X-Amz-Signature=abc`,
      [TOKEN]
    )
    expect(out).not.toContain(TOKEN)
    expect(out).not.toContain('X-Amz-Signature=abc')
    expect(out).toContain('bad token ***')
  })

  it('redacts before cutting, so a secret straddling the cut cannot leak a part', () => {
    const out = bodyStart(`${'x'.repeat(190)}${TOKEN}`, [TOKEN])
    expect(out).not.toContain(TOKEN.slice(0, 8))
  })
})

describe('apiMessage', () => {
  it('prefers the JSON error and message fields', () => {
    expect(apiMessage('{"error":"Unauthorized","message":"bad token"}', [])).toBe(
      'Unauthorized: bad token'
    )
    expect(apiMessage('{"message":"Request not found"}', [])).toBe('Request not found')
    expect(apiMessage('{"error":"Oops","message":"  "}', [])).toBe('Oops')
  })

  it('falls back to the body start for non-string fields, other JSON and non-JSON', () => {
    expect(apiMessage('{"error":{"code":1}}', [])).toBe('{"error":{"code":1}}')
    expect(apiMessage('[1,2]', [])).toBe('[1,2]')
    expect(apiMessage('null', [])).toBe('null')
    expect(apiMessage('<html>\n<body>Bad Gateway</body></html>', [])).toBe(
      '<html> <body>Bad Gateway</body></html>'
    )
    expect(apiMessage('', [])).toBe('')
  })

  it('redacts and truncates the API message', () => {
    const out = apiMessage(JSON.stringify({ message: `token ${TOKEN} ${'z'.repeat(300)}` }), [
      TOKEN
    ])
    expect(out).not.toContain(TOKEN)
    expect(out.length).toBe(201)
    expect(out.endsWith('…')).toBe(true)
  })
})

describe('parseJson', () => {
  it('parses JSON bodies', () => {
    expect(parseJson(ENDPOINT, res(200, '{"status":"COMPLETED"}'), [])).toEqual({
      status: 'COMPLETED'
    })
    expect(parseJson(ENDPOINT, res(200, '[1]'), [])).toEqual([1])
  })

  it('names the endpoint and the status when the body is not JSON', () => {
    const error = thrown(() => parseJson(ENDPOINT, res(200, '<html>oops</html>'), []))
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error).not.toBeInstanceOf(TypeError)
    expect(error.message).toContain(ENDPOINT)
    expect(error.message).toContain('HTTP 200')
    expect(error.message).toContain('not JSON')
    expect(error.message).toContain('<html>oops</html>')
  })

  it('makes a garbled 2xx retryable (as a 502) and keeps other statuses', () => {
    const ok = httpError(thrown(() => parseJson(ENDPOINT, res(200, 'garbled'), [])))
    expect(ok.status).toBe(502)
    expect(isTransient(ok)).toBe(true)
    const bad = httpError(thrown(() => parseJson(ENDPOINT, res(418, 'teapot'), [])))
    expect(bad.status).toBe(418)
    expect(isTransient(bad)).toBe(false)
  })

  it('never puts a secret from the body into the error', () => {
    const error = thrown(() => parseJson(ENDPOINT, res(200, `not json ${TOKEN}`), [TOKEN]))
    expect(error.message).not.toContain(TOKEN)
  })

  it('treats an empty body as not JSON', () => {
    expect(() => parseJson(ENDPOINT, res(200, ''), [])).toThrow(HttpStatusError)
  })
})

describe('failForStatus', () => {
  const now = Date.UTC(2024, 0, 1, 0, 0, 0)

  it.each([401, 403])('turns HTTP %i into a FatalError about the token input', status => {
    const error = thrown(() =>
      failForStatus(ENDPOINT, res(status, '{"message":"Invalid token"}'), [], now)
    )
    expect(error).toBeInstanceOf(FatalError)
    expect(isTransient(error)).toBe(false)
    expect(error.message).toContain(ENDPOINT)
    expect(error.message).toContain(`HTTP ${status}`)
    expect(error.message).toContain("'token'")
    expect(error.message).toContain('Invalid token')
  })

  it('does not echo the token in an auth failure', () => {
    const error = thrown(() => failForStatus(ENDPOINT, res(401, `bad: ${TOKEN}`), [TOKEN], now))
    expect(error.message).not.toContain(TOKEN)
  })

  it('omits empty parentheses when the body says nothing', () => {
    const error = thrown(() => failForStatus(ENDPOINT, res(401, ''), [], now))
    expect(error.message).not.toContain('()')
    expect(error.message).toContain('answered HTTP 401.')
  })

  it('keeps the status of other failures and reads Retry-After in seconds', () => {
    const error = thrown(() =>
      failForStatus(ENDPOINT, res(503, 'Service Unavailable', { 'retry-after': '7' }), [], now)
    )
    expect(error).toBeInstanceOf(HttpStatusError)
    const http = httpError(error)
    expect(http.status).toBe(503)
    expect(http.retryAfterMs).toBe(7_000)
    expect(http.message).toBe(`${ENDPOINT} answered HTTP 503 (Service Unavailable)`)
    expect(isTransient(http)).toBe(true)
  })

  it('reads Retry-After as an HTTP date relative to the injected now', () => {
    const error = httpError(
      thrown(() =>
        failForStatus(
          ENDPOINT,
          res(429, '', { 'retry-after': 'Mon, 01 Jan 2024 00:01:00 GMT' }),
          [],
          now
        )
      )
    )
    expect(error.status).toBe(429)
    expect(error.retryAfterMs).toBe(60_000)
  })

  it('uses the first of repeated Retry-After headers', () => {
    const error = httpError(
      thrown(() =>
        failForStatus(
          ENDPOINT,
          res(503, '', { 'retry-after': ['2', '9'] as unknown as string }),
          [],
          now
        )
      )
    )
    expect(error.retryAfterMs).toBe(2_000)
  })

  it('leaves retryAfterMs undefined without the header', () => {
    const error = httpError(thrown(() => failForStatus(ENDPOINT, res(500, 'x'), [], now)))
    expect(error.status).toBe(500)
    expect(error.retryAfterMs).toBeUndefined()
  })

  it('lets a 404 elsewhere be non-transient', () => {
    const error = thrown(() => failForStatus(ENDPOINT, res(404, ''), [], now))
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(isTransient(error)).toBe(false)
  })
})

describe('wrongShape', () => {
  it('is a FatalError naming the endpoint, status, problem and the redacted body', () => {
    const error = wrongShape(ENDPOINT, 200, 'no "status" string', `{"x":"${TOKEN}"}`, [TOKEN])
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain(ENDPOINT)
    expect(error.message).toContain('HTTP 200')
    expect(error.message).toContain('no "status" string')
    expect(error.message).not.toContain(TOKEN)
  })
})

describe('expiryFromCreated', () => {
  it('is date_created + 7 days', () => {
    expect(expiryFromCreated('2017-1-11 15:53:00')?.toISOString()).toBe('2017-01-18T15:53:00.000Z')
    expect(expiryFromCreated('2024-02-25T00:00:00Z')?.toISOString()).toBe(
      '2024-03-03T00:00:00.000Z'
    )
    expect(expiryFromCreated('2024-01-01T00:00:00+02:00')?.toISOString()).toBe(
      '2024-01-07T22:00:00.000Z'
    )
  })

  it.each([undefined, null, '', 'yesterday', 1_700_000_000_000, '2017-13-45'])(
    'is undefined for %j',
    value => {
      expect(expiryFromCreated(value)).toBeUndefined()
    }
  )
})

describe('expiryFromUrl', () => {
  const S3 = 'https://bucket.s3.amazonaws.com/6073/6073_1.csv'

  it('reads SigV4 X-Amz-Date + X-Amz-Expires', () => {
    const url =
      `${S3}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20240101%2Fus-east-1` +
      `&X-Amz-Date=20240101T120000Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=abc`
    expect(expiryFromUrl(url)?.toISOString()).toBe('2024-01-08T12:00:00.000Z')
  })

  it('reads SigV4 with a short lifetime and odd seconds', () => {
    expect(expiryFromUrl(`${S3}?X-Amz-Date=20231231T235959Z&X-Amz-Expires=1`)?.toISOString()).toBe(
      '2024-01-01T00:00:00.000Z'
    )
  })

  it('reads SigV2 Expires as epoch seconds', () => {
    expect(
      expiryFromUrl(`${S3}?AWSAccessKeyId=AKIA&Expires=1704067200&Signature=x%2By`)?.toISOString()
    ).toBe('2024-01-01T00:00:00.000Z')
  })

  it('prefers SigV4 when both forms are present', () => {
    expect(
      expiryFromUrl(`${S3}?Expires=1&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60`)?.toISOString()
    ).toBe('2024-01-01T00:01:00.000Z')
  })

  it.each([
    ['not a URL', 'garbage'],
    ['an empty string', ''],
    ['a URL without a signature', S3],
    ['a garbled X-Amz-Date', `${S3}?X-Amz-Date=2024-01-01&X-Amz-Expires=60`],
    ['X-Amz-Date without X-Amz-Expires', `${S3}?X-Amz-Date=20240101T000000Z`],
    ['a non-numeric X-Amz-Expires', `${S3}?X-Amz-Date=20240101T000000Z&X-Amz-Expires=soon`],
    ['a non-numeric Expires', `${S3}?Expires=tomorrow`],
    ['a negative Expires', `${S3}?Expires=-5`]
  ])('is undefined for %s', (_what, url) => {
    expect(expiryFromUrl(url)).toBeUndefined()
  })
})

describe('failCreate', () => {
  const CREATE = 'POST /v4/products/search'

  it('explains a query that matched no records, naming query and data-type', () => {
    const error = thrown(() =>
      failCreate(CREATE, res(400, '{"message":"numRequested cannot be <= 0"}'), [])
    )
    expect(error).toBeInstanceOf(FatalError)
    expect(isTransient(error)).toBe(false)
    expect(error.message).toContain('matched no records')
    expect(error.message).toContain(CREATE)
    expect(error.message).toContain('HTTP 400')
    expect(error.message).toContain("'query'")
    expect(error.message).toContain("'data-type'")
  })

  it('recognises the zero-match text whatever the status and case', () => {
    const error = thrown(() => failCreate(CREATE, res(500, 'NUMREQUESTED CANNOT BE <= 0'), []))
    expect(error.message).toContain('matched no records')
  })

  it('explains the plan limit, naming num-records', () => {
    const error = thrown(() =>
      failCreate(
        CREATE,
        res(403, '{"error":"Request exceeds preview record limit for your plan"}'),
        []
      )
    )
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain('plan does not allow')
    expect(error.message).toContain("'num-records'")
    expect(error.message).not.toContain("'token'")
  })

  it.each([401, 403])('turns HTTP %i into a token error without echoing it', status => {
    const error = thrown(() =>
      failCreate(CREATE, res(status, `{"message":"bad ${TOKEN}"}`), [TOKEN])
    )
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain('rejected the token')
    expect(error.message).toContain("'token'")
    expect(error.message).toContain(`HTTP ${status}`)
    expect(error.message).not.toContain(TOKEN)
  })

  it.each([500, 502, 503, 504, 429, 408])(
    'makes HTTP %i final, saying why it was not retried',
    status => {
      const error = thrown(() => failCreate(CREATE, res(status, 'busy'), []))
      expect(error).toBeInstanceOf(FatalError)
      expect(isTransient(error)).toBe(false)
      expect(error.message).toContain(`HTTP ${status}`)
      expect(error.message).toContain('not retried')
      expect(error.message).toContain('second download')
      expect(error.message).toContain('busy')
    }
  )

  it.each([400, 404, 422])('names the query inputs for another HTTP %i', status => {
    const error = thrown(() =>
      failCreate(CREATE, res(status, '{"message":"invalid query syntax"}'), [])
    )
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain('Creating the download failed')
    expect(error.message).toContain('invalid query syntax')
    for (const input of ['query', 'data-type', 'format', 'num-records', 'view']) {
      expect(error.message).toContain(`'${input}'`)
    }
    expect(error.message).not.toContain('not retried')
  })

  it('omits empty parentheses when the body says nothing', () => {
    const error = thrown(() => failCreate(CREATE, res(400, ''), []))
    expect(error.message).not.toContain('()')
    expect(error.message).toContain('answered HTTP 400.')
  })

  it('never echoes a secret from the body', () => {
    for (const text of [
      `numRequested cannot be <= 0 ${TOKEN}`,
      `exceeds preview record limit ${TOKEN}`,
      `oops ${TOKEN}`
    ]) {
      for (const status of [400, 401, 503]) {
        const error = thrown(() => failCreate(CREATE, res(status, text), [TOKEN]))
        expect(error.message).not.toContain(TOKEN)
      }
    }
  })
})
