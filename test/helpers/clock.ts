import type { Clock } from '../../src/support/clock.js'

export interface FakeClock extends Clock {
  /** The current fake time. */
  time: number
  /** Every sleep asked for, in order. */
  sleeps: number[]
  /** Moves time forward, firing `every` callbacks that fall due. */
  tick(ms: number): void
}

/**
 * A clock whose sleeps return at once: each one is recorded and, unless `frozen`, moves the time
 * forward by its length, so that deadlines are reached without waiting.
 */
export function fakeClock(start = 0, options: { frozen?: boolean } = {}): FakeClock {
  const timers = new Set<{ every: number; next: number; fn: () => void }>()
  const clock: FakeClock = {
    time: start,
    sleeps: [],
    now: () => clock.time,
    sleep: (ms, signal) => {
      if (signal?.aborted) return Promise.reject(signal.reason as Error)
      clock.sleeps.push(ms)
      if (!options.frozen) clock.tick(ms)
      return Promise.resolve()
    },
    every: (ms, fn) => {
      const timer = { every: ms, next: clock.time + ms, fn }
      timers.add(timer)
      return () => timers.delete(timer)
    },
    tick: ms => {
      const end = clock.time + ms
      for (;;) {
        const due = [...timers].filter(t => t.next <= end).sort((a, b) => a.next - b.next)[0]
        if (!due) break
        clock.time = due.next
        due.next += due.every
        due.fn()
      }
      clock.time = end
    }
  }
  return clock
}
