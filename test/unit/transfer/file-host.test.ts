import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { FatalError } from '../../../src/support/errors.js'
import {
  RefusedUrlError,
  describeRemote,
  fileStatusError
} from '../../../src/transfer/file-host.js'
import {
  IntegrityError,
  UnconfirmedCopyError,
  checker,
  expectedOf,
  sumsOf,
  verify,
  type Sums
} from '../../../src/transfer/verify.js'
import { httpError } from '../../helpers/errors.js'

const file = {
  name: '6073_1.csv',
  url: 'https://bucket.s3.amazonaws.com/tok_secret/6073_1.csv?X-Amz-Signature=abcdef0123456789'
}

const MD5 = '0123456789abcdef0123456789abcdef'

describe('expectedOf', () => {
  it('reads a plain single-part ETag, quoted or not, in any case', () => {
    expect(expectedOf({ etag: `"${MD5.toUpperCase()}"` }).md5).toBe(MD5)
    expect(expectedOf({ etag: MD5 }).md5).toBe(MD5)
  })
  it('ignores multipart, weak and malformed ETags', () => {
    expect(expectedOf({ etag: `"${MD5}-8"` })).toMatchObject({
      md5: undefined,
      reason: /multipart/
    })
    expect(expectedOf({ etag: `W/"${MD5}"` }).md5).toBeUndefined()
    expect(expectedOf({ etag: '"abc"' }).md5).toBeUndefined()
    expect(expectedOf({})).toMatchObject({ md5: undefined, reason: 'no ETag' })
  })
  it('keeps the MD5 of an SSE-S3 object, and is certain of it where the host says it is S3', () => {
    expect(expectedOf({ etag: `"${MD5}"`, 'x-amz-server-side-encryption': 'AES256' })).toEqual({
      md5: MD5,
      certain: true,
      reason: 'plain ETag of an S3 object'
    })
    expect(expectedOf({ etag: `"${MD5}"`, 'x-amz-request-id': 'R' }).certain).toBe(true)
    expect(expectedOf({ etag: `"${MD5}"` })).toMatchObject({ md5: MD5, certain: false })
  })
  it.each([
    ['SSE-KMS', { 'x-amz-server-side-encryption': 'aws:kms' }],
    ['DSSE-KMS', { 'x-amz-server-side-encryption': 'aws:kms:dsse' }],
    ['SSE-C', { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' }]
  ])('takes no MD5 from the plain ETag of an %s object', (_kind, headers) => {
    expect(expectedOf({ etag: `"${MD5}"`, ...headers }).md5).toBeUndefined()
  })
})

describe('verify', () => {
  const bytes = Buffer.from('id\n1\n')
  const md5Of = (data: Buffer): string => createHash('md5').update(data).digest('hex')
  const sha = createHash('sha256').update(bytes).digest('hex')
  const fed = (): Sums => {
    const check = checker(undefined, true)
    check.feed(bytes)
    return sumsOf(check)
  }
  it('passes a matching MD5, whatever the host', () => {
    expect(verify(fed(), { md5: md5Of(bytes), certain: false }, 'close', undefined)).toMatchObject({
      integrity: 'md5',
      sha256: sha
    })
  })
  it('an S3 host: a mismatch is corruption, however often the same bytes come', () => {
    expect(() => verify(fed(), { md5: MD5, certain: true }, 'length', sha)).toThrow(IntegrityError)
  })
  it('another host: a mismatch asks for a second copy, and two identical copies pass by length', () => {
    const first = (() => {
      try {
        verify(fed(), { md5: MD5, certain: false }, 'length', undefined)
      } catch (error) {
        return error
      }
      return undefined
    })()
    expect(first).toBeInstanceOf(UnconfirmedCopyError)
    expect((first as UnconfirmedCopyError).sha256).toBe(sha)
    expect(() => verify(fed(), { md5: MD5, certain: false }, 'length', 'f'.repeat(64))).toThrow(
      UnconfirmedCopyError
    )
    const second = verify(fed(), { md5: MD5, certain: false }, 'length', sha)
    expect(second).toMatchObject({ integrity: 'length', sha256: sha })
    expect(second.doubt).toMatch(/not an MD5/)
  })
  it('a body ended by a bare close with nothing to check: only on a second identical copy', () => {
    const none = { md5: undefined, certain: false }
    expect(() => verify(fed(), none, 'close', undefined)).toThrow(UnconfirmedCopyError)
    expect(verify(fed(), none, 'close', sha)).toMatchObject({ integrity: 'none' })
    expect(verify(fed(), none, 'chunked', undefined)).toMatchObject({ integrity: 'none' })
    expect(verify(fed(), none, 'length', undefined)).toMatchObject({ integrity: 'length' })
  })
})

describe('describeRemote', () => {
  it('takes the size of a 206 from Content-Range and assumes ranges', () => {
    expect(
      describeRemote(206, {
        'content-range': 'bytes 0-0/12345',
        etag: '"e"',
        'content-length': '1'
      })
    ).toMatchObject({ total: 12345, etag: '"e"', ranges: true })
  })
  it('takes the size of a 200 from Content-Length and ranges from Accept-Ranges', () => {
    expect(describeRemote(200, { 'content-length': '99', 'accept-ranges': 'bytes' })).toMatchObject(
      {
        total: 99,
        etag: undefined,
        ranges: true
      }
    )
    expect(describeRemote(200, {})).toMatchObject({
      total: undefined,
      etag: undefined,
      ranges: false
    })
  })
})

describe('fileStatusError', () => {
  const xml = (code: string, message: string): string =>
    `<?xml version="1.0"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`

  it('a 403 is a refused URL: the message names the file, the S3 reason and the 7-day expiry', () => {
    const error = fileStatusError(
      file,
      403,
      xml('AccessDenied', 'Request has expired'),
      undefined,
      0
    )
    expect(error).toBeInstanceOf(RefusedUrlError)
    expect(error.message).toContain('6073_1.csv')
    expect(error.message).toContain('AccessDenied: Request has expired')
    expect(error.message).toContain('7 days')
    expect(error.message).not.toContain('tok_secret')
    expect(error.message).not.toContain('abcdef0123456789')
  })
  it('a 404 is final; a 503 keeps its status and Retry-After for the retry policy', () => {
    expect(fileStatusError(file, 404, xml('NoSuchKey', 'gone'), undefined, 0)).toBeInstanceOf(
      FatalError
    )
    const busy = httpError(fileStatusError(file, 503, '', '7', 0))
    expect(busy.status).toBe(503)
    expect(busy.retryAfterMs).toBe(7000)
  })
})
