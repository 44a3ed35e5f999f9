import { describe, expect, it } from 'vitest'
import {
  FatalError,
  HttpStatusError,
  TransientError,
  errorMessage,
  isTransient,
  isUnsent,
  parseRetryAfter
} from '../../../src/support/errors.js'

function errno(code: string, message = 'network trouble'): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code })
}

describe('error classes', () => {
  it('carry their names, messages and fields', () => {
    const http = new HttpStatusError('boom', 503, 2000)
    expect(http).toBeInstanceOf(Error)
    expect(http.name).toBe('HttpStatusError')
    expect(http.message).toBe('boom')
    expect(http.status).toBe(503)
    expect(http.retryAfterMs).toBe(2000)
    expect(new HttpStatusError('x', 500).retryAfterMs).toBeUndefined()
    expect(new FatalError('f').name).toBe('FatalError')
    expect(new TransientError('t').name).toBe('TransientError')
    expect(new FatalError('f')).toBeInstanceOf(Error)
  })
})

describe('isTransient', () => {
  it.each([408, 429, 500, 502, 503, 504])('retries HTTP %i', status => {
    expect(isTransient(new HttpStatusError(`HTTP ${status}`, status))).toBe(true)
  })

  it.each([400, 401, 403, 404, 405, 409, 410, 422, 501, 505])('does not retry HTTP %i', status => {
    expect(isTransient(new HttpStatusError(`HTTP ${status}`, status))).toBe(false)
  })

  it.each([
    'ECONNRESET',
    'ECONNREFUSED',
    'ETIMEDOUT',
    'EPIPE',
    'EAI_AGAIN',
    'ENOTFOUND',
    'ENETUNREACH',
    'EHOSTUNREACH',
    'ECONNABORTED',
    'ERR_STREAM_PREMATURE_CLOSE',
    'UND_ERR_SOCKET'
  ])('retries errno %s', code => {
    expect(isTransient(errno(code, 'x'))).toBe(true)
  })

  it.each(['ENOENT', 'EACCES', 'ENOSPC', 'EISDIR', 'ERR_INVALID_ARG_TYPE'])(
    'does not retry errno %s',
    code => {
      expect(isTransient(errno(code, 'x'))).toBe(false)
    }
  )

  it.each(['socket hang up', 'Request timeout: /v3/requests/1', 'aborted', 'other side closed'])(
    'retries an error whose message says %j',
    message => {
      expect(isTransient(new Error(message))).toBe(true)
    }
  )

  it('does not retry a FatalError, even with a transient-looking code or message', () => {
    expect(isTransient(new FatalError('x'))).toBe(false)
    expect(
      isTransient(Object.assign(new FatalError('socket hang up'), { code: 'ECONNRESET' }))
    ).toBe(false)
  })

  it('retries a TransientError whatever its message', () => {
    expect(isTransient(new TransientError('no data for 30s'))).toBe(true)
    expect(isTransient(new TransientError(''))).toBe(true)
  })

  it('does not retry ordinary errors and non-errors', () => {
    expect(isTransient(new Error('Unexpected token < in JSON'))).toBe(false)
    expect(isTransient(new TypeError('x is undefined'))).toBe(false)
    expect(isTransient('ECONNRESET')).toBe(false)
    expect(isTransient({ code: 'ECONNRESET' })).toBe(false)
    expect(isTransient(undefined)).toBe(false)
    expect(isTransient(null)).toBe(false)
  })
})

describe('errorMessage', () => {
  it('reads errors, strings and other values', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom')
    expect(errorMessage('plain')).toBe('plain')
    expect(errorMessage({ a: 1 })).toBe('{"a":1}')
    expect(errorMessage(42)).toBe('42')
    expect(errorMessage(undefined)).toBe('undefined')
    expect(errorMessage(null)).toBe('null')
  })

  it('survives values JSON cannot encode', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    expect(errorMessage(cyclic)).toBe('[object Object]')
    expect(errorMessage(10n)).toBe('10')
    expect(errorMessage(Symbol('s'))).toBe('Symbol(s)')
  })
})

describe('parseRetryAfter', () => {
  const now = Date.UTC(2015, 9, 21, 7, 28, 0)

  it.each([
    ['0', 0],
    ['1', 1_000],
    ['120', 120_000],
    [' 5 ', 5_000]
  ])('reads delta-seconds %j as %i ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms)
  })

  it('reads an HTTP date relative to the injected now', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Wed, 21 Oct 2015 08:28:00 GMT', now)).toBe(3_600_000)
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now + 10_000)).toBe(20_000)
  })

  it('never returns a negative delay for a date in the past', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0)
  })

  it.each([undefined, '', '   ', 'soon', 'later please'])('ignores %j', value => {
    expect(parseRetryAfter(value, now)).toBeUndefined()
  })
})

describe('isUnsent', () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH'])(
    'is true for %s: the request never left',
    code => {
      expect(isUnsent(errno(code))).toBe(true)
    }
  )

  it.each([
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    'ECONNABORTED',
    'ERR_STREAM_PREMATURE_CLOSE',
    'UND_ERR_SOCKET',
    'ENOENT'
  ])('is false for %s: the request may have reached the server', code => {
    expect(isUnsent(errno(code))).toBe(false)
  })

  it('is false for HTTP answers, stalls and errors without a code', () => {
    expect(isUnsent(new HttpStatusError('HTTP 503', 503))).toBe(false)
    expect(isUnsent(new HttpStatusError('HTTP 429', 429, 1000))).toBe(false)
    expect(isUnsent(new TransientError('no data for 30s'))).toBe(false)
    expect(isUnsent(new FatalError('boom'))).toBe(false)
    expect(isUnsent(new Error('socket hang up'))).toBe(false)
    expect(isUnsent(new Error('connect ECONNREFUSED 127.0.0.1:443'))).toBe(false)
  })

  it('is false for non-errors, even with an unsent-looking code', () => {
    expect(isUnsent({ code: 'ECONNREFUSED' })).toBe(false)
    expect(isUnsent('ECONNREFUSED')).toBe(false)
    expect(isUnsent(undefined)).toBe(false)
    expect(isUnsent(null)).toBe(false)
  })

  it('is stricter than isTransient: every unsent error is transient, not the reverse', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']) {
      expect(isTransient(errno(code))).toBe(true)
    }
    expect(isTransient(errno('ECONNRESET'))).toBe(true)
    expect(isUnsent(errno('ECONNRESET'))).toBe(false)
  })
})
