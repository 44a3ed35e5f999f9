/** An HTTP answer that the caller did not expect; `status` decides whether it is worth a retry. */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError'
  constructor(
    message: string,
    readonly status: number,
    /** Milliseconds the server asked us to wait (`Retry-After`), when it said. */
    readonly retryAfterMs?: number
  ) {
    super(message)
  }
}

/** A failure that no retry can fix: the message is what the user should read. */
export class FatalError extends Error {
  override name = 'FatalError'
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504])
const TRANSIENT_CODES = new Set([
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
])

/**
 * The create call's own answer (an HTTP status from Datafiniti): it says what happened, so it needs
 * no warning that a download may exist.
 */
export class CreateAnswerError extends FatalError {
  override name = 'CreateAnswerError'
}

/** The disk refused an operation (full, read-only, over a size limit, gone): no retry fixes that. */
export class DiskError extends FatalError {
  override name = 'DiskError'
}

/** Runs a file-system operation, turning its failure into a DiskError. */
export async function onDisk<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    throw new DiskError(errorMessage(error))
  }
}

/** Network trouble that a retry can fix; set by the transfer code for stalls and short bodies. */
export class TransientError extends Error {
  override name = 'TransientError'
}

/** The one place that decides what is worth retrying. */
export function isTransient(error: unknown): boolean {
  if (error instanceof FatalError) return false
  if (error instanceof TransientError) return true
  if (error instanceof HttpStatusError) return TRANSIENT_STATUS.has(error.status)
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== undefined && TRANSIENT_CODES.has(code)) return true
    return /socket hang up|request timeout|aborted|other side closed/i.test(error.message)
  }
  return false
}

// Failures that happen before a single byte of the request is sent.
const UNSENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH'
])

/** True only when the request provably never reached the server: safe to retry a create. */
export function isUnsent(error: unknown): boolean {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined
  return code !== undefined && UNSENT_CODES.has(code)
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  if (typeof error === 'string') return error
  try {
    // undefined for undefined, functions and symbols, whatever the lib typings say
    const json = JSON.stringify(error) as string | undefined
    return json ?? String(error)
  } catch {
    return String(error)
  }
}

/** `Retry-After` is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}
