import { describe, expect, it } from 'vitest'
import { startProgress } from '../../../src/report/progress.js'
import { fakeClock } from '../../helpers/clock.js'
import { recordingLog, type RecordingLog } from '../../helpers/log.js'

/** Progress is reported at info level only. */
const recorder = (): RecordingLog => recordingLog({ levels: ['info'] })

describe('startProgress', () => {
  it('logs one line per interval with bytes, share, rate and time left, never one per chunk', () => {
    const log = recorder()
    const clock = fakeClock()
    const progress = startProgress('Downloaded', log, clock, 5000)
    progress.expect(100 * 1024 * 1024)
    for (let i = 0; i < 1000; i++) progress.add(20 * 1024) // 1,000 chunks in the first 5 s
    expect(log.lines).toEqual([])
    clock.tick(5000)
    expect(log.lines).toEqual(['Downloaded 19.5 MiB of 100 MiB (19%), 3.9 MiB/s, about 21s left'])
    clock.tick(4999)
    expect(log.lines).toHaveLength(1)
    progress.stop()
    clock.tick(60_000)
    expect(log.lines).toHaveLength(1)
  })

  it('takes back discarded bytes and leaves out the share while no size is known', () => {
    const log = recorder()
    const clock = fakeClock()
    const progress = startProgress('Downloaded', log, clock, 1000)
    progress.add(4096)
    progress.add(-2048)
    clock.tick(1000)
    expect(log.lines).toEqual(['Downloaded 2.0 KiB, 2.0 KiB/s'])
    progress.stop()
  })
})
