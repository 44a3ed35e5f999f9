import { RESULT_LIFETIME_MS } from '../domain/download.js'
import {
  CreateAnswerError,
  FatalError,
  HttpStatusError,
  parseRetryAfter
} from '../support/errors.js'
import { header, type TextResponse } from '../support/http.js'
import { redact } from '../support/secrets.js'

/** The start of a body, single-line and without secrets, for an error message. */
export function bodyStart(text: string, secrets: readonly string[]): string {
  const flat = redact(text, secrets).replace(/\s+/g, ' ').trim()
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

const API_DATE =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i

/** `2017-1-11 15:53:00` (no padding, no zone: UTC), `2017-1-11`, or ISO-8601. */
export function parseApiDate(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined
  const m = API_DATE.exec(value.trim())
  if (!m) return undefined
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m
  const ms = Math.round(Number(`0.${frac}`) * 1000)
  let time = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms)
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    time -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000
  }
  // Date.UTC rolls 2017-13-45 over into 2018: refuse what does not round-trip.
  const check = new Date(
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))
  )
  if (
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi) ||
    check.getUTCSeconds() !== Number(s)
  ) {
    return undefined
  }
  const date = new Date(time)
  return Number.isNaN(date.getTime()) ? undefined : date
}

/**
 * Errors of a create call, which is never retried once it may have reached the server: known API
 * answers get their own explanation, the rest say why the action did not try again.
 */
export function failCreate(endpoint: string, res: TextResponse, secrets: readonly string[]): never {
  const said = apiMessage(res.text, secrets)
  if (/numRequested cannot be <= 0/i.test(res.text)) {
    throw new CreateAnswerError(
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

/** v3 result files expire 7 days after `date_created`. */
export function expiryFromCreated(value: unknown): Date | undefined {
  const created = parseApiDate(value)
  return created ? new Date(created.getTime() + RESULT_LIFETIME_MS) : undefined
}

/** A pre-signed S3 URL says when it stops working: `X-Amz-Date` + `X-Amz-Expires` (or SigV2 `Expires`). */
export function expiryFromUrl(url: string): Date | undefined {
  try {
    const q = new URL(url).searchParams
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '')
    const seconds = q.get('X-Amz-Expires')
    if (date && seconds && /^\d+$/.test(seconds)) {
      const [y = 0, mo = 1, d, h, mi, s] = date.slice(1).map(Number)
      return new Date(Date.UTC(y, mo - 1, d, h, mi, s) + Number(seconds) * 1000)
    }
    const expires = q.get('Expires')
    if (expires && /^\d+$/.test(expires)) return new Date(Number(expires) * 1000)
  } catch {
    // not a URL: no expiry known
  }
  return undefined
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

/** A request's `error` field as text: empty when there is none. */
export function errorText(raw: unknown): string {
  return typeof raw === 'string' ? raw.trim() : raw ? JSON.stringify(raw) : ''
}
