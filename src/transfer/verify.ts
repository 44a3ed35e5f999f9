import { createHash, type Hash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { IntegrityCheck, RecordFormat } from '../domain/model.js'
import { TransientError } from '../support/errors.js'
import { header } from '../http/transport.js'
import { recordCounter, type RecordCounter } from './records.js'

/** The assembled file does not match what the host promised (length or MD5). */
export class IntegrityError extends TransientError {
  override name = 'IntegrityError'
}

/**
 * A whole copy that nothing could vouch for (an MD5 that may not be one, a body ended by a bare
 * connection close): fetched once more, and accepted only if the next copy is the same bytes.
 */
export class UnconfirmedCopyError extends IntegrityError {
  override name = 'UnconfirmedCopyError'
  constructor(
    message: string,
    readonly sha256: string
  ) {
    super(message)
  }
}

const PLAIN_MD5_ETAG = /^"?([0-9a-f]{32})"?$/i

/** What the host's answer lets us check a file's bytes against. */
export interface Expected {
  /** The MD5 the ETag stands for, when it can be one. */
  md5: string | undefined
  /**
   * True when the host says it is S3 (an `x-amz-*` header), whose plain ETag on an object without
   * SSE-KMS or SSE-C is the MD5: a mismatch is then corruption, never doubt about the ETag.
   */
  certain: boolean
  /** Why this check, for the debug log. */
  reason: string
}

/**
 * A plain 32-hex ETag is the MD5 of the content, except for a multipart upload (`-N`) and for
 * objects encrypted with SSE-KMS (`aws:kms`, `aws:kms:dsse`) or SSE-C, whose ETags AWS documents as
 * not an MD5 of the data. SSE-S3 (`AES256`) keeps the MD5.
 */
export function expectedOf(headers: IncomingHttpHeaders): Expected {
  const etag = header(headers, 'etag')?.trim()
  const s3 = Object.keys(headers).some(name => name.startsWith('x-amz-'))
  const sse = header(headers, 'x-amz-server-side-encryption')?.trim().toLowerCase() ?? ''
  const none = (reason: string): Expected => ({ md5: undefined, certain: false, reason })
  if (!etag) return none('no ETag')
  if (sse.startsWith('aws:kms')) return none(`the ETag of an ${sse} (SSE-KMS) object is no MD5`)
  if (header(headers, 'x-amz-server-side-encryption-customer-algorithm') !== undefined) {
    return none('the ETag of an SSE-C object is no MD5')
  }
  const md5 = PLAIN_MD5_ETAG.exec(etag)?.[1]?.toLowerCase()
  if (!md5) {
    return none(/-\d+"?$/.test(etag) ? 'a multipart ETag is no MD5' : 'the ETag is no MD5')
  }
  return { md5, certain: s3, reason: s3 ? 'plain ETag of an S3 object' : 'plain 32-hex ETag' }
}

/** What every byte of a file goes through, in order: the record counter and the MD5, if any. */
export interface Check {
  counter: RecordCounter | undefined
  hash: Hash | undefined
  sha256: Hash
  feed: (chunk: Buffer) => void
}

/** Feeds a file's bytes, on this thread, through the checks a download gets (for local copies). */
export function checker(format: RecordFormat | undefined, md5: boolean): Check {
  const counter = format ? recordCounter(format) : undefined
  const hash = md5 ? createHash('md5') : undefined
  const sha256 = createHash('sha256')
  return {
    counter,
    hash,
    sha256,
    feed: chunk => {
      counter?.push(chunk)
      hash?.update(chunk)
      sha256.update(chunk)
    }
  }
}

/** What a file's bytes came to: its record count and digests. */
export interface Sums {
  records: number | undefined
  sha256: string
  md5: string | undefined
}

/** The sums of everything fed through a checker. */
export function sumsOf(check: Check): Sums {
  return {
    records: check.counter?.total(),
    sha256: check.sha256.digest('hex'),
    md5: check.hash?.digest('hex')
  }
}

/** What a finished, checked file reports. */
export interface Verified {
  records: number | undefined
  sha256: string
  integrity: IntegrityCheck
  /** Set when the file was accepted on a second identical copy: why, for a warning. */
  doubt?: string
}

/**
 * How the body's end was known: the announced length (already compared by the caller), the end of
 * chunked framing, or a bare connection close, which a cut connection looks exactly like.
 */
export type Framing = 'length' | 'chunked' | 'close'

/**
 * The one check of a finished file, whole or assembled from parts: its MD5 against the ETag where
 * the ETag is one, otherwise the length. A copy nothing can vouch for (an MD5 mismatch on a host
 * that does not say it is S3, a close-delimited body without an MD5) throws UnconfirmedCopyError,
 * and is accepted only when `previous`, the sha256 of the copy before, shows the same bytes.
 */
export function verify(
  sums: Sums,
  expected: Pick<Expected, 'md5' | 'certain'>,
  framing: Framing,
  previous: string | undefined
): Verified {
  const { sha256, records } = sums
  const byFraming: IntegrityCheck = framing === 'length' ? 'length' : 'none'
  const { md5 } = expected
  if (md5 !== undefined) {
    const actual = sums.md5 ?? ''
    if (actual === md5) return { records, sha256, integrity: 'md5' }
    const mismatch = `its MD5 ${actual} does not match the ETag ${md5}`
    if (expected.certain) throw new IntegrityError(mismatch)
    if (previous !== sha256) {
      throw new UnconfirmedCopyError(`${mismatch} (fetching it again to compare)`, sha256)
    }
    const doubt =
      `its MD5 does not match the ETag ${md5} in two identical copies: this host's ETag is not ` +
      `an MD5 of the content, so the file was checked by ${byFraming === 'length' ? 'its length' : 'comparing the copies'} only`
    return { records, sha256, integrity: byFraming, doubt }
  }
  if (framing === 'close') {
    if (previous !== sha256) {
      throw new UnconfirmedCopyError(
        'the host ended the body by closing the connection, with no length or MD5 to check it against (fetching it again to compare)',
        sha256
      )
    }
    const doubt =
      'the host sent it with no length and no MD5, ending it by closing the connection: accepted ' +
      'because two copies were identical'
    return { records, sha256, integrity: 'none', doubt }
  }
  return { records, sha256, integrity: byFraming }
}
