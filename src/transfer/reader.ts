import { readSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { DiskError, errorMessage } from '../support/errors.js'
import type { Part } from './sink.js'

const MiB = 1024 * 1024

/** Bytes read back per turn of the event loop, so that a catch-up never holds it for long. */
const READ_BACK_PER_TURN = 4 * MiB

/**
 * Follows the contiguous written prefix of a file whose parts land out of order and feeds its
 * bytes, in order, to the digests and the record counter: straight from the receive buffer when a
 * chunk is the next byte in order (`take`), else read back from the page cache once the prefix
 * reaches it. Memory stays bounded: bytes ahead of the prefix wait on disk, not in buffers. Reads
 * are synchronous, like the writes (see sink.ts): bytes just written are still in the page cache,
 * and a thread-pool round trip per read cost more than the read.
 */
export class OrderedReader {
  private fed = 0
  private later: NodeJS.Immediate | undefined
  private failure: unknown
  private readonly buffer = Buffer.allocUnsafe(256 * 1024)

  constructor(
    private readonly file: FileHandle,
    private readonly parts: readonly Part[],
    private readonly feed: (chunk: Buffer) => void
  ) {}

  /** End of the contiguous prefix that is on disk. */
  frontier(): number {
    let end = 0
    for (const part of this.parts) {
      end = part.start + part.written
      if (end < part.end) return end
    }
    return end
  }

  /**
   * A chunk just written at `at`: fed as it is when it is the next byte in order (the first part
   * arrives in order, and alone it is the whole file; a later part once the prefix has reached
   * it), sparing a read back from the page cache.
   */
  take(chunk: Buffer, at: number): void {
    if (at !== this.fed || this.failure !== undefined) return
    try {
      this.feed(chunk)
    } catch (error) {
      this.failure = error
      return
    }
    this.fed += chunk.length
  }

  /** Catches up with the frontier: some now, the rest on later turns of the event loop. */
  poke(): void {
    if (this.later || this.failure !== undefined) return
    try {
      this.pump(READ_BACK_PER_TURN)
    } catch (error) {
      this.failure = error
      return
    }
    if (this.fed < this.frontier()) {
      this.later = setImmediate(() => {
        this.later = undefined
        this.poke()
      })
    }
  }

  private pump(budget: number): void {
    const { feed } = this
    for (let frontier = this.frontier(); this.fed < frontier && budget > 0;) {
      const length = Math.min(this.buffer.length, frontier - this.fed)
      let bytesRead: number
      try {
        bytesRead = readSync(this.file.fd, this.buffer, 0, length, this.fed)
      } catch (error) {
        throw new DiskError(errorMessage(error))
      }
      if (bytesRead === 0) throw new Error(`the file ended at ${this.fed} while reading it back`)
      feed(this.buffer.subarray(0, bytesRead))
      this.fed += bytesRead
      budget -= bytesRead
      if (this.fed >= frontier) frontier = this.frontier()
    }
  }

  /** Once every part is written: feeds the rest and reports what was fed. */
  async finish(): Promise<number> {
    this.stop()
    while (this.failure === undefined && this.fed < this.frontier()) {
      try {
        this.pump(READ_BACK_PER_TURN)
      } catch (error) {
        this.failure = error
      }
      await new Promise(resolve => setImmediate(resolve))
    }
    if (this.failure !== undefined) {
      throw this.failure instanceof Error ? this.failure : new Error(errorMessage(this.failure))
    }
    return this.fed
  }

  /** No more reading: the file is about to close. */
  stop(): void {
    clearImmediate(this.later)
    this.later = undefined
  }
}
