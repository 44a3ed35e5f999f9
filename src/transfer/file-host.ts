import { createHash, type Hash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { FatalError, HttpStatusError, TransientError, parseRetryAfter } from '../support/errors.js'
import { contentLength } from '../support/http.js'
import { recordCounter, type RecordCounter, type RecordFormat } from './records.js'
import { describeUrl, redact } from '../support/secrets.js'

/** What the file host says about a file, and the errors and checks that follow from it. */

/** The file host refused a signed URL: usually expired. Fresh URLs may fix it. */
export class RefusedUrlError extends FatalError {}

/** The assembled file does not match what the host promised (length or MD5). */
export class IntegrityError extends TransientError {}

/** What the host told us about the file, so that a retry can resume only the same file. */
export interface Remote {
  total: number | undefined
  etag: string | undefined
  ranges: boolean
}

const PLAIN_MD5_ETAG = /^"?([0-9a-f]{32})"?$/i

/** A plain single-part S3 ETag is the MD5 of the content; a multipart one (`-N`) is not. */
export function md5FromEtag(etag: string | undefined): string | undefined {
  return etag ? PLAIN_MD5_ETAG.exec(etag.trim())?.[1]?.toLowerCase() : undefined
}

/** Feeds a file's bytes through the same checks a download gets. */
export function checker(
  format: RecordFormat | undefined,
  md5: boolean
): { counter: RecordCounter | undefined; hash: Hash | undefined; feed: (chunk: Buffer) => void } {
  const counter = format ? recordCounter(format) : undefined
  const hash = md5 ? createHash('md5') : undefined
  return {
    counter,
    hash,
    feed: chunk => {
      counter?.push(chunk)
      hash?.update(chunk)
    }
  }
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Size, ETag and range support from a 200 or a 206 answer. */
export function describeRemote(status: number, headers: IncomingHttpHeaders): Remote {
  const etag = header(headers, 'etag')
  if (status === 206) {
    const range = /\/(\d+)\s*$/.exec(header(headers, 'content-range') ?? '')
    return { total: range ? Number(range[1]) : undefined, etag, ranges: true }
  }
  return {
    total: contentLength(headers),
    etag,
    ranges: header(headers, 'accept-ranges') === 'bytes'
  }
}

/** S3 explains refusals in XML: `<Code>AccessDenied</Code><Message>Request has expired</Message>`. */
function s3Reason(text: string): string {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1]
  const message = /<Message>([^<]{1,200})<\/Message>/.exec(text)?.[1]
  return [code, message].filter(Boolean).join(': ')
}

export function fileStatusError(
  file: { name: string; url: string },
  status: number,
  text: string,
  retryAfter: string | undefined,
  now: number
): Error {
  const where = describeUrl(file.url)
  const reason = s3Reason(text)
  const detail = reason ? ` (${redact(reason)})` : ''
  if (status === 403) {
    return new RefusedUrlError(
      `The file host refused ${file.name} from ${where}: HTTP 403${detail}. The results may have expired: ` +
        `Datafiniti result files expire 7 days after they are made (see the expires-at output of an earlier run).`
    )
  }
  if (status === 404 || status === 410) {
    return new FatalError(`The file host has no ${file.name} (${where}): HTTP ${status}${detail}.`)
  }
  return new HttpStatusError(
    `the file host answered HTTP ${status}${detail} for ${file.name}`,
    status,
    parseRetryAfter(retryAfter, now)
  )
}
