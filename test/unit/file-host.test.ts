import { describe, expect, it } from 'vitest'
import { FatalError } from '../../src/support/errors.js'
import { RefusedUrlError, describeRemote, fileStatusError } from '../../src/transfer/file-host.js'
import { md5FromEtag } from '../../src/transfer/verify.js'
import { httpError } from '../helpers/errors.js'

const file = {
  name: '6073_1.csv',
  url: 'https://bucket.s3.amazonaws.com/tok_secret/6073_1.csv?X-Amz-Signature=abcdef0123456789'
}

describe('md5FromEtag', () => {
  it('reads a plain single-part ETag, quoted or not, in any case', () => {
    expect(md5FromEtag('"0123456789ABCDEF0123456789abcdef"')).toBe(
      '0123456789abcdef0123456789abcdef'
    )
    expect(md5FromEtag('0123456789abcdef0123456789abcdef')).toBe('0123456789abcdef0123456789abcdef')
  })
  it('ignores multipart, weak and malformed ETags', () => {
    expect(md5FromEtag('"0123456789abcdef0123456789abcdef-8"')).toBeUndefined()
    expect(md5FromEtag('W/"0123456789abcdef0123456789abcdef"')).toBeUndefined()
    expect(md5FromEtag('"abc"')).toBeUndefined()
    expect(md5FromEtag(undefined)).toBeUndefined()
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
    ).toEqual({ total: 12345, etag: '"e"', ranges: true })
  })
  it('takes the size of a 200 from Content-Length and ranges from Accept-Ranges', () => {
    expect(describeRemote(200, { 'content-length': '99', 'accept-ranges': 'bytes' })).toEqual({
      total: 99,
      etag: undefined,
      ranges: true
    })
    expect(describeRemote(200, {})).toEqual({ total: undefined, etag: undefined, ranges: false })
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
