import type { FileHandle } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { formatDuration } from './duration.js'
import { TransientError, errorMessage } from './errors.js'
import { received as reclaim } from './memory.js'

/** One byte range `[start, end)` of a file and how much of it is on disk. */
export interface Part {
  start: number
  end: number
  written: number
}

/** Marks the end of a part reached inside a longer body: success, not a failure. */
class PartFull extends Error {}

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
  body: IncomingMessage,
  file: FileHandle,
  part: Part,
  options: SinkOptions
): Promise<void> {
  const { signal } = options
  if (signal.aborted) {
    body.destroy()
    throw signal.reason
  }
  // A write still on its way to disk when the body fails: waited for, so that `part.written` is
  // final before anyone resumes from it.
  let writing: Promise<unknown> = Promise.resolve()
  // Bytes that arrived, written or not: what the connection delivered before it broke.
  let received = 0
  let stall: NodeJS.Timeout | undefined
  // Why we cut the body ourselves: the stream then reports only 'aborted'.
  let cutReason: Error | undefined
  const cut = (reason: Error): void => {
    cutReason ??= reason
    body.destroy(reason)
  }
  const arm = (): void => {
    clearTimeout(stall)
    stall = setTimeout(() => {
      cut(new TransientError(`no data for ${formatDuration(options.stallTimeoutMs)}`))
    }, options.stallTimeoutMs)
  }
  const onAbort = (): void => {
    cut(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
  }
  /** Writes what fits of the chunks in one system call; calls back PartFull past the part's end. */
  const put = (chunks: Buffer[], callback: (error?: Error | null) => void): void => {
    arm()
    const data: Buffer[] = []
    let room = part.end - part.start - part.written
    // Bytes past the end of the part: the body goes on, but this part is done.
    let overflow = false
    for (const chunk of chunks) {
      received += chunk.length
      reclaim(chunk.length)
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk
      if (piece.length > 0) data.push(piece)
      room -= piece.length
      if (piece.length < chunk.length) overflow = true
    }
    const length = data.reduce((sum, piece) => sum + piece.length, 0)
    writing = file.writev(data, part.start + part.written).then(({ bytesWritten }) => {
      if (bytesWritten < length) {
        callback(new Error('short write to disk'))
        return
      }
      if (options.onChunk) for (const piece of data) options.onChunk(piece)
      part.written += bytesWritten
      options.onWritten(bytesWritten)
      callback(overflow ? new PartFull() : null)
    }, callback)
  }
  // Chunks that queue up while a write is on disk go down together in one writev.
  const writer = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      put([chunk], callback)
    },
    writev(chunks, callback) {
      put(
        chunks.map(entry => entry.chunk as Buffer),
        callback
      )
    }
  })
  signal.addEventListener('abort', onAbort, { once: true })
  arm()
  try {
    await pipeline(body, writer)
  } catch (error) {
    if (error instanceof PartFull) {
      body.destroy()
      return
    }
    if (cutReason) throw cutReason
    if (error instanceof TransientError) throw error
    const at = part.start + received
    const of = part.end < Number.MAX_SAFE_INTEGER ? ` of ${part.end}` : ''
    throw new TransientError(`the connection broke after ${at}${of} bytes (${errorMessage(error)})`)
  } finally {
    clearTimeout(stall)
    signal.removeEventListener('abort', onAbort)
    await writing.catch(() => undefined)
  }
}
