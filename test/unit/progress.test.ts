import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Logger } from '../../src/log.js'
import { startProgress } from '../../src/progress.js'
import type { Clock } from '../../src/retry.js'

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = []
  return { lines, info: line => lines.push(line), warning: () => undefined, debug: () => undefined }
}

const clock: Clock = { now: () => Date.now(), sleep: () => Promise.resolve() }

describe('startProgress', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(0)
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('logs one line per interval with bytes, share, rate and time left, never one per chunk', () => {
    const log = recorder()
    const progress = startProgress('Downloaded', log, clock, 5000)
    progress.expect(100 * 1024 * 1024)
    for (let i = 0; i < 1000; i++) progress.add(20 * 1024) // 1,000 chunks in the first 5 s
    expect(log.lines).toEqual([])
    vi.advanceTimersByTime(5000)
    expect(log.lines).toEqual(['Downloaded 19.5 MiB of 100 MiB (19%), 3.9 MiB/s, about 21s left'])
    vi.advanceTimersByTime(4999)
    expect(log.lines).toHaveLength(1)
    progress.stop()
    vi.advanceTimersByTime(60_000)
    expect(log.lines).toHaveLength(1)
  })

  it('takes back discarded bytes and leaves out the share while no size is known', () => {
    const log = recorder()
    const progress = startProgress('Downloaded', log, clock, 1000)
    progress.add(4096)
    progress.add(-2048)
    vi.advanceTimersByTime(1000)
    expect(log.lines).toEqual(['Downloaded 2.0 KiB, 2.0 KiB/s'])
    progress.stop()
  })
})
