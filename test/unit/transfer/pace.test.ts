import { describe, expect, it } from 'vitest'
import { DEFAULT_SINGLE_STREAM_ABOVE, Pace } from '../../../src/transfer/pace.js'
import type { Part } from '../../../src/transfer/sink.js'
import { fakeClock } from '../../helpers/clock.js'

const MiB = 1024 * 1024

describe('Pace', () => {
  it('one connection alone when its first 16 MiB come faster than the limit', async () => {
    const clock = fakeClock()
    const first: Part = { start: 0, end: 64 * MiB, written: 0 }
    const pace = new Pace(first, { clock })
    first.written = 8 * MiB
    pace.check()
    first.written = 16 * MiB
    clock.tick(20) // 800 MiB/s
    pace.check()
    expect(await pace.decided).toBe(true)
    expect(pace.describe()).toBe('800 MiB/s already')
  })

  it('ranges when the first bytes come slower than the limit (S3 gives ~100 MB/s)', async () => {
    const clock = fakeClock()
    const first: Part = { start: 0, end: 64 * MiB, written: 16 * MiB }
    const pace = new Pace(first, { clock })
    clock.tick(160) // 100 MiB/s
    pace.check()
    expect(DEFAULT_SINGLE_STREAM_ABOVE).toBe(192 * MiB)
    expect(await pace.decided).toBe(false)
  })

  it('ranges as soon as the first connection falls behind the limit, before its sample is in', async () => {
    const clock = fakeClock()
    const first: Part = { start: 0, end: 64 * MiB, written: 0 }
    const pace = new Pace(first, { clock })
    first.written = 2 * MiB
    clock.tick(10) // 200 MiB/s, but too early to tell
    pace.check()
    first.written = 2.5 * MiB
    clock.tick(90) // 25 MiB/s over 100 ms: S3-like
    pace.check()
    // Decided by this check, not by the 250 ms timer.
    const soon = new Promise(resolve => setTimeout(() => resolve('still waiting'), 50))
    expect(await Promise.race([pace.decided, soon])).toBe(false)
  })

  it('ranges when the first connection ends before its sample is in, or nothing comes for 250 ms', async () => {
    const clock = fakeClock()
    const ended = new Pace({ start: 0, end: 64 * MiB, written: MiB }, { clock })
    ended.stop()
    expect(await ended.decided).toBe(false)
    const silent = new Pace({ start: 0, end: 64 * MiB, written: 0 }, { clock })
    expect(await silent.decided).toBe(false)
  })

  it('always ranges with an infinite limit, at once', async () => {
    const first: Part = { start: 0, end: 64 * MiB, written: 64 * MiB }
    const pace = new Pace(first, { clock: fakeClock(), singleStreamAbove: Infinity })
    pace.check()
    expect(await pace.decided).toBe(false)
  })
})
