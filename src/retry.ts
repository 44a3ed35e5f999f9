import { setTimeout as delay } from 'node:timers/promises'
import { HttpStatusError, isTransient } from './errors.js'

export interface Clock {
  now(): number
  /** Rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await delay(ms, undefined, signal ? { signal } : undefined).catch((error: unknown) => {
      throw signal?.aborted ? signal.reason : error
    })
  }
}

export const MAX_RETRY_AFTER_MS = 5 * 60_000

export interface RetryOptions {
  /** Retries after the first attempt. */
  maxRetries: number
  baseDelayMs: number
  maxDelayMs: number
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
