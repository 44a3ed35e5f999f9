import type { DownloadState } from '../domain/model.js'
import {
  CreateAnswerError,
  FatalError,
  HttpStatusError,
  parseRetryAfter
} from '../support/errors.js'
import { header, type TextResponse } from '../http/transport.js'
import { redact } from '../support/secrets.js'
import { safeText } from '../support/text.js'

/** The start of a body, single-line, without secrets or workflow commands, for an error message. */
export function bodyStart(text: string, secrets: readonly string[]): string {
  const flat = safeText(redact(text, secrets).replace(/\s+/g, ' ')).trim()
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat
}

/** The API's own explanation (`message` or `error` of a JSON error body), else the body's start. */
export function apiMessage(text: string, secrets: readonly string[]): string {
  try {
    const body = JSON.parse(text) as unknown
    if (body !== null && typeof body === 'object') {
      const { message, error } = body as Record<string, unknown>
      const said = [error, message].filter(s => typeof s === 'string' && s.trim() !== '')
      if (said.length > 0) return bodyStart(said.join(': '), secrets)
    }
  } catch {
    // not JSON: fall through to the raw start
  }
  return bodyStart(text, secrets)
}

/**
 * Turns a non-2xx answer into an error: auth failures are final and say so; the rest keep their
 * status so that the retry predicate can decide.
 */
export function failForStatus(
  endpoint: string,
  res: TextResponse,
  secrets: readonly string[],
  now: number
): never {
  const said = apiMessage(res.text, secrets)
  if (res.status === 401 || res.status === 403) {
    throw new FatalError(
      `Datafiniti rejected the token: ${endpoint} answered HTTP ${res.status}${said ? ` (${said})` : ''}. ` +
        `Check the 'token' input: it must be a valid API token from the Datafiniti portal, passed from a secret.`
    )
  }
  const retryAfter = parseRetryAfter(header(res.headers, 'retry-after'), now)
  throw new HttpStatusError(
    `${endpoint} answered HTTP ${res.status}${said ? ` (${said})` : ''}`,
    res.status,
    retryAfter
  )
}

/** JSON or a specific error naming the endpoint and status, never a TypeError later on. */
export function parseJson(
  endpoint: string,
  res: TextResponse,
  secrets: readonly string[]
): unknown {
  try {
    return JSON.parse(res.text) as unknown
  } catch {
    throw new HttpStatusError(
      `${endpoint} answered HTTP ${res.status} with a body that is not JSON: "${bodyStart(res.text, secrets)}"`,
      // A garbled 200 is as likely a passing proxy fault as a lasting one: let it be retried.
      res.status >= 200 && res.status < 300 ? 502 : res.status
    )
  }
}

export function wrongShape(
  endpoint: string,
  status: number,
  what: string,
  text: string,
  secrets: readonly string[]
): FatalError {
  return new FatalError(
    `${endpoint} answered HTTP ${status} with JSON of an unexpected shape (${what}): "${bodyStart(text, secrets)}"`
  )
}

/** A number from a field that may be a number or a numeric string. */
export function optionalNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim())) return Number(value)
  return undefined
}

/**
 * The query matched nothing, so Datafiniti made no download: on a schedule a normal week, which
 * `if-no-results` decides about as it does for a download without files.
 */
export class NoMatchesError extends CreateAnswerError {
  override name = 'NoMatchesError'
}

/**
 * Errors of a create call, which is never retried once it may have reached the server: known API
 * answers get their own explanation, the rest say why the action did not try again.
 */
export function failCreate(endpoint: string, res: TextResponse, secrets: readonly string[]): never {
  const said = apiMessage(res.text, secrets)
  if (/numRequested cannot be <= 0/i.test(res.text)) {
    throw new NoMatchesError(
      `The query matched no records, so Datafiniti created no download (${endpoint} answered HTTP ${res.status}: ${said}). ` +
        `Check the 'query' and 'data-type' inputs.`
    )
  }
  if (/exceeds preview record limit/i.test(res.text)) {
    throw new CreateAnswerError(
      `Your Datafiniti plan does not allow this download (${endpoint} answered HTTP ${res.status}: ${said}). ` +
        `Lower 'num-records' to your plan's preview limit, or upgrade the plan.`
    )
  }
  if (res.status === 401 || res.status === 403) {
    throw new CreateAnswerError(
      `Datafiniti rejected the token: ${endpoint} answered HTTP ${res.status}${said ? ` (${said})` : ''}. ` +
        `Check the 'token' input: it must be a valid API token from the Datafiniti portal, passed from a secret.`
    )
  }
  throw new CreateAnswerError(
    `Creating the download failed: ${endpoint} answered HTTP ${res.status}${said ? ` (${said})` : ''}. ` +
      (res.status >= 500 || res.status === 429 || res.status === 408
        ? `It was not retried, because a retry could create (and charge for) a second download: ` +
          `look for a new download in the Datafiniti portal before running again.`
        : `Check the 'query', 'data-type', 'format', 'num-records' and 'view' inputs.`)
  )
}

/**
 * A status answer of either version: an unknown id is final and says which input to check; the
 * body is one object, or a one-element array holding it, with a non-empty `status` string.
 */
export function statusRecord(
  endpoint: string,
  res: TextResponse,
  what: { notFound: string; shape: string },
  secrets: readonly string[],
  now: number
): Record<string, unknown> {
  if (res.status === 400 || res.status === 404) {
    throw new FatalError(
      `${what.notFound} (${endpoint} answered HTTP ${res.status}). Check the 'request-id' input.`
    )
  }
  if (res.status !== 200) failForStatus(endpoint, res, secrets, now)
  const body = parseJson(endpoint, res, secrets)
  const item = Array.isArray(body) ? (body as unknown[])[0] : body
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw wrongShape(endpoint, res.status, what.shape, res.text, secrets)
  }
  const record = item as Record<string, unknown>
  if (typeof record['status'] !== 'string' || record['status'].trim() === '') {
    throw wrongShape(endpoint, res.status, 'no "status" string', res.text, secrets)
  }
  return record
}

/** A request's `error` field as one line of text: empty when there is none. */
export function errorText(raw: unknown): string {
  return safeText(typeof raw === 'string' ? raw : raw ? JSON.stringify(raw) : '').trim()
}

/**
 * A download's state from its status record, whatever the version's field names: unknown statuses
 * are taken as still running, and only `completed` is done.
 */
export function downloadState(
  record: Record<string, unknown>,
  fields: { downloaded: string; requested: string; format: string; cost?: string },
  failed: ReadonlySet<string>
): DownloadState {
  // Shown in progress lines, the summary and the `status` output: one line, never a command.
  const status = safeText(String(record['status'])).trim()
  const lower = status.toLowerCase()
  const error = errorText(record['error'])
  const rawFormat = record[fields.format]
  const format = typeof rawFormat === 'string' ? rawFormat.toLowerCase() : ''
  return {
    status,
    phase:
      error !== '' || failed.has(lower)
        ? 'failed'
        : lower === 'completed'
          ? 'completed'
          : 'pending',
    error,
    numDownloaded: optionalNumber(record[fields.downloaded]),
    numRequested: optionalNumber(record[fields.requested]),
    totalCost: fields.cost === undefined ? undefined : optionalNumber(record[fields.cost]),
    format: format === 'csv' || format === 'json' ? format : undefined
  }
}

/** A result item's URL: `{ url }`, or (v4) the URL itself; else a clear error. */
export function resultUrl(
  item: unknown,
  index: number,
  answer: { endpoint: string; res: TextResponse; secrets: readonly string[]; strings: boolean }
): string {
  const { endpoint, res, secrets, strings } = answer
  const url =
    typeof item === 'string' && strings
      ? item
      : item !== null && typeof item === 'object'
        ? (item as Record<string, unknown>)['url']
        : undefined
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url) || !URL.canParse(url)) {
    const what = strings ? 'is not an http(s) URL' : 'has no http(s) "url"'
    throw wrongShape(endpoint, res.status, `result ${index + 1} ${what}`, res.text, secrets)
  }
  return url
}
