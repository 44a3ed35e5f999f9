import { formatDuration } from '../support/format.js'
import { formatBytes } from '../support/format.js'
import { type Logger } from '../support/log.js'
import type { Clock } from '../support/clock.js'

export interface Progress {
  add: (bytes: number) => void
  expect: (bytes: number) => void
  stop: () => void
}

/** A line every few seconds with bytes, rate and ETA: never a line per chunk. */
export function startProgress(label: string, log: Logger, clock: Clock, everyMs = 5000): Progress {
  const started = clock.now()
  let done = 0
  let expected = 0
  const stop = clock.every(everyMs, () => {
    const elapsed = clock.now() - started
    const rate = elapsed > 0 ? (done * 1000) / elapsed : 0
    let line = `${label} ${formatBytes(done)}`
    if (expected > 0)
      line += ` of ${formatBytes(expected)} (${Math.min(100, Math.floor((done / expected) * 100))}%)`
    line += `, ${formatBytes(rate)}/s`
    if (expected > done && rate > 0)
      line += `, about ${formatDuration(((expected - done) / rate) * 1000)} left`
    log.info(line)
  })
  return {
    add: bytes => {
      done += bytes
    },
    expect: bytes => {
      expected += bytes
    },
    stop
  }
}
