import type { TransferContext } from './job.js'
import type { Part } from './sink.js'

const MiB = 1024 * 1024

/**
 * A first connection faster than this takes the whole file alone. On a link this fast the work
 * per byte, not the connection, sets the pace, and more connections only add to it: 1 GiB from
 * 127.0.0.1 takes about 1 s on one connection and nearly 2 s over four ranges (bench/RESULTS.md).
 * There the first 16 MiB came at 306–814 MiB/s; S3 gives one connection about 100 MB/s at best.
 */
export const DEFAULT_SINGLE_STREAM_ABOVE = 192 * MiB

/** The first bytes that show a connection's speed, and the longest wait for them. */
const SAMPLE_BYTES = 16 * MiB
const SAMPLE_MS = 250
/**
 * From this long after the head, bytes below half the limit's pace mean ranges at once. Half: over
 * TLS from 127.0.0.1 the first 20 ms came at 170–200 MiB/s, while the decryption and both digests
 * were starting up on the same two cores, and the same connection then went on at over 400 MiB/s;
 * S3's connections (about 100 MB/s at best) stay below half.
 */
const BEHIND_AFTER_MS = 20

/**
 * Decides whether a large file is fetched in ranges, from how fast the first connection brings
 * its first bytes: `decided` says true for one connection alone. Slow first bytes, or a first
 * part that ends before the sample is in, mean ranges.
 */
export class Pace {
  readonly decided: Promise<boolean>
  private settle: (alone: boolean) => void = () => undefined
  private readonly started: number
  private readonly sample: number
  private readonly limit: number
  private readonly timer: NodeJS.Timeout | undefined
  private rate = 0
  private done = false

  constructor(
    private readonly first: Part,
    private readonly options: Pick<TransferContext, 'clock' | 'singleStreamAbove'>
  ) {
    this.limit = options.singleStreamAbove ?? DEFAULT_SINGLE_STREAM_ABOVE
    this.started = options.clock.now()
    this.sample = Math.min(SAMPLE_BYTES, Math.floor((first.end - first.start) / 2))
    this.decided = new Promise(resolve => (this.settle = resolve))
    if (this.limit === Infinity) {
      this.done = true
      this.settle(false)
      return
    }
    this.timer = setTimeout(() => this.decide(false), SAMPLE_MS)
  }

  /**
   * After each write of the first connection: decides once the sample is in, or as soon as the
   * connection has fallen well behind the limit, so that a capped link (S3) starts its other
   * connections within the first chunks: waiting out the sample at 25 MiB/s would cost a capped
   * 512 MiB download a quarter of a second, a tenth of its time.
   */
  check(): void {
    if (this.done) return
    const elapsed = this.options.clock.now() - this.started
    if (this.first.written >= this.sample) this.decide(true)
    else if (elapsed >= BEHIND_AFTER_MS && this.first.written < (this.limit * elapsed) / 2000) {
      this.decide(false)
    }
  }

  /** The first connection ended (or the file is done): ranges for whatever is left. */
  stop(): void {
    this.decide(false)
  }

  describe(): string {
    return `${Math.round(this.rate / MiB)} MiB/s already`
  }

  private decide(measured: boolean): void {
    if (this.done) return
    this.done = true
    clearTimeout(this.timer)
    if (measured) {
      const seconds = Math.max(1, this.options.clock.now() - this.started) / 1000
      this.rate = this.first.written / seconds
    }
    this.settle(measured && this.rate > this.limit && this.first.written < this.first.end)
  }
}
