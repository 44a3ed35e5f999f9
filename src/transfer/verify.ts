import { createHash, type Hash } from 'node:crypto'
import type { IntegrityCheck, RecordFormat } from '../domain/download.js'
import { TransientError } from '../support/errors.js'
import { recordCounter, type RecordCounter } from './records.js'

/** The assembled file does not match what the host promised (length or MD5). */
export class IntegrityError extends TransientError {
  override name = 'IntegrityError'
}

const PLAIN_MD5_ETAG = /^"?([0-9a-f]{32})"?$/i

/** A plain single-part S3 ETag is the MD5 of the content; a multipart one (`-N`) is not. */
export function md5FromEtag(etag: string | undefined): string | undefined {
  return etag ? PLAIN_MD5_ETAG.exec(etag.trim())?.[1]?.toLowerCase() : undefined
}

/** What every byte of a file goes through, in order: the record counter and the MD5, if any. */
export interface Check {
  counter: RecordCounter | undefined
  hash: Hash | undefined
  sha256: Hash
  feed: (chunk: Buffer) => void
}

/** Feeds a file's bytes through the same checks a download gets. */
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

/** What a finished, checked file reports. */
export interface Verified {
  records: number | undefined
  sha256: string
  integrity: IntegrityCheck
}

/**
 * The one check of a finished file, whole or assembled from parts: its MD5 against the ETag where
 * the ETag is one (a mismatch is an IntegrityError); otherwise the length, already compared by the
 * caller when the host announced one.
 */
export function verify(check: Check, md5: string | undefined, lengthKnown: boolean): Verified {
  if (md5 !== undefined) {
    const actual = check.hash?.digest('hex')
    if (actual !== md5) {
      throw new IntegrityError(`its MD5 ${actual ?? ''} does not match the ETag ${md5}`)
    }
  }
  return {
    records: check.counter?.total(),
    sha256: check.sha256.digest('hex'),
    integrity: md5 !== undefined ? 'md5' : lengthKnown ? 'length' : 'none'
  }
}
