import { RESULT_LIFETIME_MS } from '../domain/model.js'

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
