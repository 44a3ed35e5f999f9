import type { Clock } from './clock.js'
import { HttpStatusError, errorMessage, isTransient } from './errors.js'
import { formatDuration } from './format.js'
import type { Logger } from './log.js'
import { redact } from './secrets.js'

/** How often and how patiently a failed call or transfer is tried again: one value, passed whole. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number
  /** Backoff: full jitter under base * 2^(n-1), capped at maxDelayMs. */
  baseDelayMs: number
  maxDelayMs: number
}

export function retryPolicy(maxRetries: number): RetryPolicy {
  return { maxRetries, baseDelayMs: 1000, maxDelayMs: 30_000 }
}

const MAX_RETRY_AFTER_MS = 5 * 60_000

export interface RetryOptions extends RetryPolicy {
  clock: Clock
  /** Absolute time (clock.now()) past which no retry waits. */
  deadline?: number
  signal?: AbortSignal
  random?: () => number
  isTransient?: (error: unknown) => boolean
  onRetry?: (info: {
    error: unknown
    attempt: number
    maxAttempts: number
    delayMs: number
  }) => void
}

/**
 * Retries what the predicate calls transient, with exponential backoff and full jitter, honouring a
 * server's Retry-After, and never sleeping past the deadline.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions
): Promise<T> {
  const random = options.random ?? Math.random
  const transient = options.isTransient ?? isTransient
  const maxAttempts = options.maxRetries + 1
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (attempt >= maxAttempts || options.signal?.aborted || !transient(error)) throw error
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1))
      const retryAfter = error instanceof HttpStatusError ? error.retryAfterMs : undefined
      // A server may ask for any wait: more than five minutes is taken as five.
      const delayMs = Math.round(
        retryAfter !== undefined ? Math.min(retryAfter, MAX_RETRY_AFTER_MS) : random() * ceiling
      )
      if (options.deadline !== undefined && options.clock.now() + delayMs > options.deadline) {
        throw error
      }
      options.onRetry?.({ error, attempt, maxAttempts, delayMs })
      await options.clock.sleep(delayMs, options.signal)
    }
  }
}

/** The one wording of a retry in the log: `<what> failed (<why>); retry 2 of 5 in 1.3s`. */
export function logRetry(log: Logger, what: () => string): NonNullable<RetryOptions['onRetry']> {
  return ({ error, attempt, maxAttempts, delayMs }) =>
    log.warning(
      `${what()} failed (${redact(errorMessage(error))}); retry ${attempt} of ${maxAttempts - 1} in ${formatDuration(delayMs)}`
    )
}
