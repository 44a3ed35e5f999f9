import { writeSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { formatDuration } from '../support/format.js'
import { DiskError, TransientError, errorMessage } from '../support/errors.js'
import type { Body } from '../http/transport.js'

/** One byte range `[start, end)` of a file and how much of it is on disk. */
export interface Part {
  start: number
  end: number
  written: number
}

/** Chunks smaller than this are gathered in a buffer of GATHER bytes before they are written. */
const GATHER_BELOW = 64 * 1024
const GATHER = 256 * 1024

export interface SinkOptions {
  stallTimeoutMs: number
  signal: AbortSignal
  /** Bytes now on disk. */
  onWritten: (bytes: number) => void
  /** Each chunk, in order, as it is written (for bodies that arrive in file order). */
  onChunk?: (chunk: Buffer) => void
}

/**
 * Streams a body straight into a file at the part's offset, with no stage between the socket and
 * the disk, until the body ends or the part is full. A body that stalls for `stallTimeoutMs`, or a
 * connection that breaks, is a TransientError: the part keeps what reached the disk.
 */
export async function streamToFile(
  body: Body,
  file: FileHandle,
  part: Part,
  options: SinkOptions
): Promise<void> {
  const { signal } = options
  if (signal.aborted) {
    body.destroy()
    throw signal.reason
  }
  // Bytes that arrived, written or not: what the connection delivered before it broke.
  let received = 0
  let stall: NodeJS.Timeout | undefined
  // Why we cut the body ourselves.
  let cutReason: Error | undefined
  // A failure of our own (the disk, a callback), not of the connection: passed on as it is.
  let ownFailure: Error | undefined
  const cut = (reason: Error): void => {
    cutReason ??= reason
    body.destroy(reason)
  }
  // Re-armed on every chunk: refresh() restarts the timer without a new one each time.
  const arm = (): void => {
    if (stall) {
      stall.refresh()
      return
    }
    stall = setTimeout(() => {
      cut(new TransientError(`no data for ${formatDuration(options.stallTimeoutMs)}`))
    }, options.stallTimeoutMs)
  }
  const onAbort = (): void => {
    cut(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
  }
  // Synchronous writes as the chunks arrive, as curl and aria2 write: a write into the
  // page cache takes microseconds, and a round trip through libuv's thread pool for each one cost
  // more than the write itself (1 GiB from loopback: 2.8 s with it, 1.8 s without). The loop
  // waits only when the kernel throttles a disk that cannot keep up, and then so would anything.
  // The chunk's memory is reused once this returns (direct-get.ts): nothing keeps it.
  /** Writes the piece to disk and passes it on; the part then counts it as written. */
  const commit = (piece: Buffer): void => {
    const at = part.start + part.written
    try {
      for (let done = 0; done < piece.length;) {
        const bytes = writeSync(file.fd, piece, done, piece.length - done, at + done)
        if (bytes <= 0) throw new Error('short write')
        done += bytes
      }
    } catch (error) {
      ownFailure = new DiskError(errorMessage(error))
      throw ownFailure
    }
    // Counted and recorded only once whole: a resume rewrites anything after `written`.
    try {
      options.onChunk?.(piece)
    } catch (error) {
      ownFailure = error instanceof Error ? error : new Error(errorMessage(error))
      throw ownFailure
    }
    part.written += piece.length
    options.onWritten(piece.length)
  }
  // Small chunks (a TLS record is 16 KiB) are gathered first and go on together once the reads
  // of this turn of the event loop are in: a write, a frame for the digests and a count per
  // 16 KiB cost more than copying them (0.5 s of CPU per GiB over HTTPS, bench/RESULTS.md).
  let stage: Buffer | undefined
  let staged = 0
  let later: NodeJS.Immediate | undefined
  const flush = (): void => {
    clearImmediate(later)
    later = undefined
    if (!stage || staged === 0) return
    const piece = stage.subarray(0, staged)
    staged = 0
    commit(piece)
  }
  const flushLater = (): void => {
    later ??= setImmediate(() => {
      later = undefined
      try {
        flush()
      } catch (error) {
        cut(error instanceof Error ? error : new Error(errorMessage(error)))
      }
    })
  }
  /** Writes what fits of the chunk; false once the part is full. */
  const put = (chunk: Buffer): boolean => {
    arm()
    received += chunk.length
    const room = part.end - part.start - part.written - staged
    // Bytes past the end of the part: the body goes on, but this part is done.
    const piece = chunk.length > room ? chunk.subarray(0, room) : chunk
    if (staged + piece.length > GATHER) flush()
    if (staged === 0 && piece.length >= GATHER_BELOW) commit(piece)
    else if (piece.length > 0) {
      stage ??= Buffer.allocUnsafe(GATHER)
      staged += piece.copy(stage, staged)
      if (staged >= GATHER - GATHER_BELOW) flush()
      else flushLater()
    }
    const more = piece.length === chunk.length && part.start + part.written + staged < part.end
    if (!more) flush()
    return more
  }
  signal.addEventListener('abort', onAbort, { once: true })
  arm()
  try {
    await body.read(put)
    flush()
  } catch (error) {
    // What came whole before the break is kept, unless the disk itself failed.
    if (!ownFailure) {
      try {
        flush()
      } catch {
        // Recorded as ownFailure.
      }
    }
    if (cutReason) throw cutReason
    if (ownFailure) throw ownFailure
    if (error instanceof TransientError) throw error
    const at = part.start + received
    const of = part.end < Number.MAX_SAFE_INTEGER ? ` of ${part.end}` : ''
    throw new TransientError(`the connection broke after ${at}${of} bytes (${errorMessage(error)})`)
  } finally {
    clearImmediate(later)
    clearTimeout(stall)
    signal.removeEventListener('abort', onAbort)
  }
}
