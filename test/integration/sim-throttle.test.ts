/**
 * The simulator's per-connection cap, which the bench's capped cases measure the action against:
 * never faster than the cap, and not held below it by one timer per piece (a 1 ms timer per
 * 64 KiB caps any stream at 64 MiB/s, whatever the cap says).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { throttle } from '../../sim/body-streams.js'

const MiB = 1024 * 1024

describe('the file host throttle', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] }))
  afterEach(() => vi.useRealTimers())

  /** Bytes that left a `bytesPerSecond` throttle fed `total` bytes, after each of `steps` ms. */
  async function sentAfter(bytesPerSecond: number, total: number, steps: number[]) {
    const stream = throttle(bytesPerSecond)
    let out = 0
    stream.on('data', (piece: Buffer) => (out += piece.length))
    stream.write(Buffer.alloc(total))
    const seen: number[] = []
    for (const ms of steps) {
      await vi.advanceTimersByTimeAsync(ms)
      seen.push(out)
    }
    return seen
  }

  it('keeps a stream to the cap', async () => {
    // 4 MiB at 16 MiB/s: 250 ms. After 100 ms at most 1.6 MiB and a piece may be out.
    const [early, done] = await sentAfter(16 * MiB, 4 * MiB, [100, 200])
    expect(early).toBeLessThanOrEqual(1.6 * MiB + 64 * 1024)
    expect(early).toBeGreaterThan(1.4 * MiB)
    expect(done).toBe(4 * MiB)
  })

  it('sends a fast cap at its pace, not one piece per timer', async () => {
    // 4 MiB at 256 MiB/s is due in 16 ms; one 64 KiB piece per 1 ms timer would take 64 ms.
    const [done] = await sentAfter(256 * MiB, 4 * MiB, [20])
    expect(done).toBe(4 * MiB)
  })
})
