import { describe, expect, it } from 'vitest'
import { FatalError, HttpStatusError, TransientError } from '../../../src/support/errors.js'
import { systemClock, type Clock } from '../../../src/support/clock.js'
import { withRetry, type RetryOptions } from '../../../src/support/retry.js'
import { fakeClock } from '../../helpers/clock.js'

/** Fails with the given errors in turn, then succeeds with `value`. */
function script<T>(errors: Error[], value: T) {
  const attempts: number[] = []
  const fn = (attempt: number): Promise<T> => {
    attempts.push(attempt)
    const error = errors[attempts.length - 1]
    return error === undefined ? Promise.resolve(value) : Promise.reject(error)
  }
  return { fn, attempts }
}

function options(clock: Clock, extra: Partial<RetryOptions> = {}): RetryOptions {
  return {
    maxRetries: 3,
    baseDelayMs: 100,
    maxDelayMs: 250,
    clock,
    random: () => 1,
    ...extra
  }
}

const transient = (n: number): TransientError => new TransientError(`transient ${n}`)

describe('withRetry', () => {
  it('returns the first success without sleeping', async () => {
    const clock = fakeClock()
    const { fn, attempts } = script([], 'ok')
    await expect(withRetry(fn, options(clock))).resolves.toBe('ok')
    expect(attempts).toEqual([1])
    expect(clock.sleeps).toEqual([])
  })

  it('retries transient errors and returns the later success', async () => {
    const clock = fakeClock()
    const { fn, attempts } = script([transient(1), transient(2)], 'ok')
    await expect(withRetry(fn, options(clock))).resolves.toBe('ok')
    expect(attempts).toEqual([1, 2, 3])
    expect(clock.sleeps).toHaveLength(2)
  })

  it('makes maxRetries retries, then throws the last error', async () => {
    const clock = fakeClock()
    const errors = [transient(1), transient(2), transient(3), transient(4), transient(5)]
    const { fn, attempts } = script(errors, 'never')
    await expect(withRetry(fn, options(clock, { maxRetries: 3 }))).rejects.toBe(errors[3])
    expect(attempts).toEqual([1, 2, 3, 4])
    expect(clock.sleeps).toHaveLength(3)
  })

  it('makes a single attempt when maxRetries is 0', async () => {
    const clock = fakeClock()
    const error = transient(1)
    const { fn, attempts } = script([error], 'never')
    await expect(withRetry(fn, options(clock, { maxRetries: 0 }))).rejects.toBe(error)
    expect(attempts).toEqual([1])
    expect(clock.sleeps).toEqual([])
  })

  it.each<[string, Error]>([
    ['FatalError', new FatalError('bad token')],
    ['HTTP 404', new HttpStatusError('not found', 404)],
    ['HTTP 401', new HttpStatusError('unauthorized', 401)],
    ['TypeError', new TypeError('x is undefined')]
  ])('does not retry a %s', async (_name, error) => {
    const clock = fakeClock()
    const { fn, attempts } = script([error], 'never')
    await expect(withRetry(fn, options(clock))).rejects.toBe(error)
    expect(attempts).toEqual([1])
    expect(clock.sleeps).toEqual([])
  })

  it('retries transient HTTP statuses and errno codes by default', async () => {
    const clock = fakeClock()
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    const { fn, attempts } = script([new HttpStatusError('busy', 503), reset], 'ok')
    await expect(withRetry(fn, options(clock))).resolves.toBe('ok')
    expect(attempts).toEqual([1, 2, 3])
  })

  it('uses the injected predicate instead of isTransient', async () => {
    const clock = fakeClock()
    const fatal = new FatalError('normally final')
    const { fn, attempts } = script([fatal], 'ok')
    await expect(withRetry(fn, options(clock, { isTransient: () => true }))).resolves.toBe('ok')
    expect(attempts).toEqual([1, 2])

    const clock2 = fakeClock()
    const t = transient(1)
    const second = script([t], 'ok')
    await expect(withRetry(second.fn, options(clock2, { isTransient: () => false }))).rejects.toBe(
      t
    )
    expect(second.attempts).toEqual([1])
  })

  it('backs off exponentially with random()=1, capped at maxDelayMs', async () => {
    const clock = fakeClock()
    const { fn } = script([1, 2, 3, 4, 5].map(transient), 'ok')
    await withRetry(fn, options(clock, { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 250 }))
    expect(clock.sleeps).toEqual([100, 200, 250, 250, 250])
  })

  it('applies full jitter: random()=0.5 halves each ceiling', async () => {
    const clock = fakeClock()
    const { fn } = script([1, 2, 3, 4].map(transient), 'ok')
    await withRetry(
      fn,
      options(clock, { maxRetries: 4, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 })
    )
    expect(clock.sleeps).toEqual([50, 100, 200, 400])
  })

  it('can retry immediately with random()=0', async () => {
    const clock = fakeClock()
    const { fn } = script([transient(1)], 'ok')
    await withRetry(fn, options(clock, { random: () => 0 }))
    expect(clock.sleeps).toEqual([0])
  })

  it('keeps every delay within [0, min(maxDelay, base*2^(n-1))] with Math.random', async () => {
    const clock = fakeClock()
    const { fn } = script(
      Array.from({ length: 10 }, (_, i) => transient(i)),
      'ok'
    )
    await withRetry(fn, {
      maxRetries: 10,
      baseDelayMs: 10,
      maxDelayMs: 1000,
      clock
    })
    expect(clock.sleeps).toHaveLength(10)
    clock.sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0)
      expect(ms).toBeLessThanOrEqual(Math.min(1000, 10 * 2 ** i))
      expect(Number.isInteger(ms)).toBe(true)
    })
  })

  it("uses an HttpStatusError's retryAfterMs as the delay, even above maxDelayMs", async () => {
    const clock = fakeClock()
    const { fn } = script(
      [new HttpStatusError('slow down', 429, 7_000), new HttpStatusError('busy', 503, 0)],
      'ok'
    )
    await withRetry(fn, options(clock, { random: () => 1, maxDelayMs: 250 }))
    expect(clock.sleeps).toEqual([7_000, 0])
  })

  it('falls back to backoff when the HttpStatusError has no retryAfterMs', async () => {
    const clock = fakeClock()
    const { fn } = script([new HttpStatusError('busy', 503)], 'ok')
    await withRetry(fn, options(clock, { random: () => 1 }))
    expect(clock.sleeps).toEqual([100])
  })

  it('throws instead of sleeping past the deadline', async () => {
    const clock = fakeClock(1_000)
    const errors = [transient(1), transient(2), transient(3)]
    const { fn, attempts } = script(errors, 'ok')
    // First delay 100 ends at 1100 <= 1150; the second (200) would end at 1300 > 1150.
    await expect(withRetry(fn, options(clock, { deadline: 1_150 }))).rejects.toBe(errors[1])
    expect(attempts).toEqual([1, 2])
    expect(clock.sleeps).toEqual([100])
    expect(clock.time).toBeLessThanOrEqual(1_150)
  })

  it('may sleep exactly up to the deadline', async () => {
    const clock = fakeClock(0)
    const { fn, attempts } = script([transient(1)], 'ok')
    await expect(withRetry(fn, options(clock, { deadline: 100 }))).resolves.toBe('ok')
    expect(attempts).toEqual([1, 2])
    expect(clock.sleeps).toEqual([100])
  })

  it('does not wait out a Retry-After that passes the deadline', async () => {
    const clock = fakeClock(0)
    const error = new HttpStatusError('slow down', 429, 60_000)
    const { fn, attempts } = script([error], 'ok')
    await expect(withRetry(fn, options(clock, { deadline: 30_000 }))).rejects.toBe(error)
    expect(attempts).toEqual([1])
    expect(clock.sleeps).toEqual([])
  })

  it('reports each retry to onRetry with attempt numbers, delay and error', async () => {
    const clock = fakeClock()
    const errors = [transient(1), transient(2), transient(3)]
    const { fn } = script(errors, 'ok')
    const calls: { error: unknown; attempt: number; maxAttempts: number; delayMs: number }[] = []
    await withRetry(fn, options(clock, { maxRetries: 4, onRetry: info => calls.push(info) }))
    expect(calls).toEqual([
      { error: errors[0], attempt: 1, maxAttempts: 5, delayMs: 100 },
      { error: errors[1], attempt: 2, maxAttempts: 5, delayMs: 200 },
      { error: errors[2], attempt: 3, maxAttempts: 5, delayMs: 250 }
    ])
  })

  it('does not call onRetry for the final failure or a non-transient error', async () => {
    const clock = fakeClock()
    const attempts: number[] = []
    const { fn } = script([transient(1), transient(2)], 'ok')
    await expect(
      withRetry(fn, options(clock, { maxRetries: 1, onRetry: i => attempts.push(i.attempt) }))
    ).rejects.toBeInstanceOf(TransientError)
    expect(attempts).toEqual([1])

    const fatal = script([new FatalError('x')], 'ok')
    const none: number[] = []
    await expect(
      withRetry(fatal.fn, options(clock, { onRetry: i => none.push(i.attempt) }))
    ).rejects.toBeInstanceOf(FatalError)
    expect(none).toEqual([])
  })

  it('does not retry once the signal has aborted', async () => {
    const clock = fakeClock()
    const controller = new AbortController()
    const error = transient(1)
    const attempts: number[] = []
    const fn = (attempt: number): Promise<string> => {
      attempts.push(attempt)
      controller.abort(new Error('cancelled'))
      return Promise.reject(error)
    }
    await expect(withRetry(fn, options(clock, { signal: controller.signal }))).rejects.toBe(error)
    expect(attempts).toEqual([1])
    expect(clock.sleeps).toEqual([])
  })

  it('passes the signal to the clock so an abort interrupts the wait', async () => {
    const controller = new AbortController()
    const reason = new Error('cancelled')
    const seen: (AbortSignal | undefined)[] = []
    const clock: Clock = {
      ...fakeClock(),
      sleep: (_ms, signal) => {
        seen.push(signal)
        controller.abort(reason)
        return Promise.reject(reason)
      }
    }
    const { fn, attempts } = script([transient(1)], 'ok')
    await expect(withRetry(fn, options(clock, { signal: controller.signal }))).rejects.toBe(reason)
    expect(seen).toEqual([controller.signal])
    expect(attempts).toEqual([1])
  })
})

describe('systemClock', () => {
  it('reads the real time', () => {
    const before = Date.now()
    const now = systemClock.now()
    expect(now).toBeGreaterThanOrEqual(before)
    expect(now).toBeLessThanOrEqual(Date.now())
  })

  it("rejects with the signal's reason when it aborts during a sleep", async () => {
    const controller = new AbortController()
    const reason = new Error('stop now')
    const sleeping = systemClock.sleep(3_600_000, controller.signal)
    controller.abort(reason)
    await expect(sleeping).rejects.toBe(reason)
  })

  it('rejects at once for an already-aborted signal', async () => {
    const reason = new Error('already')
    await expect(systemClock.sleep(3_600_000, AbortSignal.abort(reason))).rejects.toBe(reason)
  })

  it('resolves a zero sleep', async () => {
    await expect(systemClock.sleep(0)).resolves.toBeUndefined()
  })
})

describe('withRetry and long Retry-After values', () => {
  it('waits at most five minutes whatever the server asks', async () => {
    const clock = fakeClock(0, { frozen: true })
    let calls = 0
    await withRetry(
      () => {
        calls++
        if (calls === 1) return Promise.reject(new HttpStatusError('busy', 503, 86_400_000))
        return Promise.resolve('ok')
      },
      { maxRetries: 2, baseDelayMs: 1000, maxDelayMs: 30_000, clock }
    )
    expect(clock.sleeps).toEqual([5 * 60_000])
  })
})
