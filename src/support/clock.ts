import { setTimeout as delay } from 'node:timers/promises'

/** Time as the code sees it: injected, so that waits and retries are tested without waiting. */
export interface Clock {
  now(): number
  /** Rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /** Calls `fn` every `ms` until the returned function is called; never keeps the process alive. */
  every(ms: number, fn: () => void): () => void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await delay(ms, undefined, signal ? { signal } : undefined).catch((error: unknown) => {
      throw signal?.aborted ? signal.reason : error
    })
  },
  every: (ms, fn) => {
    const timer = setInterval(fn, ms)
    timer.unref()
    return () => clearInterval(timer)
  }
}
