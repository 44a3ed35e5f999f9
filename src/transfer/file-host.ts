import type { IncomingHttpHeaders } from 'node:http'
import { FatalError, HttpStatusError, errorMessage, parseRetryAfter } from '../support/errors.js'
import {
  contentLength,
  getStreamUnlessAborted,
  header,
  readLimited,
  type Http,
  type StreamResponse
} from '../http/transport.js'
import { describeUrl, redact } from '../support/secrets.js'
import { expectedOf, type Expected } from './verify.js'
import { safeText } from '../support/text.js'

/** What the file host says about a file, and the errors that follow from its answers. */

/** The file host refused a signed URL: usually expired. Fresh URLs may fix it. */
export class RefusedUrlError extends FatalError {
  override name = 'RefusedUrlError'
}

/** What the host told us about the file, so that a retry can resume only the same file. */
export interface Remote {
  total: number | undefined
  etag: string | undefined
  ranges: boolean
  /** What the bytes can be checked against. */
  expected: Expected
}

/** Nothing known yet: before the first answer, and after the file changed on the host. */
export function unknownRemote(): Remote {
  return { total: undefined, etag: undefined, ranges: false, expected: expectedOf({}) }
}

/** Size, ETag and range support from a 200 or a 206 answer. */
export function describeRemote(status: number, headers: IncomingHttpHeaders): Remote {
  const etag = header(headers, 'etag')
  const expected = expectedOf(headers)
  if (status === 206) {
    const range = /\/(\d+)\s*$/.exec(header(headers, 'content-range') ?? '')
    return { total: range ? Number(range[1]) : undefined, etag, ranges: true, expected }
  }
  return {
    total: contentLength(headers),
    etag,
    ranges: header(headers, 'accept-ranges') === 'bytes',
    expected
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
  const detail = reason ? ` (${safeText(redact(reason))})` : ''
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

/**
 * Asks the host for (part of) a file. An answer with a status the caller cannot use becomes the
 * error that status means, with the host's explanation; the signed URL is the only credential the
 * host takes, so no Authorization header goes with it.
 */
export async function requestFile(
  http: Http,
  file: { name: string; url: string },
  headers: Record<string, string>,
  accepted: readonly number[],
  signal: AbortSignal,
  now: () => number
): Promise<StreamResponse> {
  const res = await getStreamUnlessAborted(http, file.url, headers, signal)
  if (accepted.includes(res.status)) return res
  // A body that breaks or stalls still leaves the status to go by; the stall is named with it.
  let broken = ''
  const text = await readLimited(res.body, 16 * 1024).catch((error: unknown) => {
    broken = ` (its body: ${errorMessage(error)})`
    return ''
  })
  const error = fileStatusError(file, res.status, text, header(res.headers, 'retry-after'), now())
  error.message += broken
  throw error
}

/**
 * What the host says about a file, from a request for its first byte: a pre-signed URL is signed
 * for GET only, so this is the HEAD it cannot have. Undefined when the host gave no usable answer;
 * the download that follows meets, and words, whatever went wrong.
 */
export async function probeRemote(
  http: Http,
  url: string,
  signal: AbortSignal
): Promise<Remote | undefined> {
  try {
    const res = await getStreamUnlessAborted(http, url, { Range: 'bytes=0-0' }, signal)
    // The one byte is read, so that the connection serves the download that follows (over TLS a
    // handshake less per connection). A host without ranges answers 200 with the whole file:
    // never read past the headers.
    if (res.status === 206 && header(res.headers, 'content-length') === '1') {
      await res.body.read(() => true)
    } else res.body.destroy()
    return res.status === 206 || res.status === 200
      ? describeRemote(res.status, res.headers)
      : undefined
  } catch {
    return undefined
  }
}
