import { readSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { formatDuration } from '../support/format.js'
import {
  DiskError,
  FatalError,
  TransientError,
  errorMessage,
  isTransient,
  onDisk
} from '../support/errors.js'
import {
  IntegrityError,
  RefusedUrlError,
  checker,
  fileStatusError,
  header,
  md5FromEtag
} from './file-host.js'
import { getStreamUnlessAborted, readLimited, type Http } from '../support/http.js'
import { streamToFile, type Part } from './sink.js'
import type { Logger } from '../support/log.js'
import type { RecordFormat } from './records.js'
import { describeUrl, redact } from '../support/secrets.js'
import { type Clock } from '../support/clock.js'
import { withRetry } from '../support/retry.js'
import type { Slots } from './slots.js'

const MiB = 1024 * 1024

/**
 * About two parts per connection, so that one slow part does not hold up the end, and parts big
 * enough that a request's round trip and TCP ramp-up stay small beside its transfer.
 */
export function partSizeFor(total: number, concurrency: number): number {
  const size = Math.ceil(total / Math.max(1, concurrency * 2))
  return Math.min(64 * MiB, Math.max(8 * MiB, size))
}

export function planParts(total: number, partSize: number): Part[] {
  const parts: Part[] = []
  for (let start = 0; start < total; start += partSize) {
    parts.push({ start, end: Math.min(total, start + partSize), written: 0 })
  }
  return parts
}

/** Bytes read back per turn of the event loop, so that a catch-up never holds it for long. */
const READ_BACK_PER_TURN = 4 * MiB

/**
 * Feeds the file's bytes, in order, to the record counter and hash while parts land out of order:
 * it follows the contiguous written prefix, reading it back from the page cache. Reads are
 * synchronous, like the writes (see sink.ts): bytes just written are still in the page cache, and
 * a thread-pool round trip per read cost more than the read.
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
    for (let frontier = this.frontier(); this.fed < frontier && budget > 0;) {
      const length = Math.min(this.buffer.length, frontier - this.fed)
      let bytesRead: number
      try {
        bytesRead = readSync(this.file.fd, this.buffer, 0, length, this.fed)
      } catch (error) {
        throw new DiskError(errorMessage(error))
      }
      if (bytesRead === 0) throw new Error(`the file ended at ${this.fed} while reading it back`)
      this.feed(this.buffer.subarray(0, bytesRead))
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

export interface RangedContext {
  name: string
  url: () => string
  etag: string
  total: number
  format: RecordFormat | undefined
  http: Http
  clock: Clock
  slots: Slots
  priority: number
  concurrency: number
  maxRetries: number
  retryBaseDelayMs: number
  retryMaxDelayMs: number
  stallTimeoutMs: number
  log: Logger
  signal: AbortSignal
  onBytes: (bytes: number) => void
}

/** One ranged request for what a part still lacks; resumable, so retried on its own. */
async function fetchPart(
  file: FileHandle,
  part: Part,
  ctx: RangedContext,
  onWritten: (bytes: number) => void,
  signal: AbortSignal
): Promise<void> {
  const from = part.start + part.written
  const res = await getStreamUnlessAborted(
    ctx.http,
    ctx.url(),
    { Range: `bytes=${from}-${part.end - 1}`, 'If-Range': ctx.etag },
    signal
  )
  if (res.status === 200) {
    res.body.destroy()
    // If-Range failed: the object is no longer the one whose other parts are on disk.
    throw new IntegrityError('the file changed on the host while its parts were downloading')
  }
  if (res.status !== 206) {
    const text = await readLimited(res.body, 16 * 1024).catch(() => '')
    throw fileStatusError(
      { name: ctx.name, url: ctx.url() },
      res.status,
      text,
      header(res.headers, 'retry-after'),
      ctx.clock.now()
    )
  }
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header(res.headers, 'content-range') ?? '')
  if (!range || Number(range[1]) !== from || Number(range[3]) !== ctx.total) {
    res.body.destroy()
    throw new IntegrityError(
      `the host answered the range ${from}-${part.end - 1} with ${range?.[0] ?? 'no Content-Range'}`
    )
  }
  await streamToFile(res.body, file, part, {
    stallTimeoutMs: ctx.stallTimeoutMs,
    signal,
    onWritten
  })
  if (part.start + part.written < part.end) {
    throw new TransientError(`part ${from}-${part.end - 1} ended after ${part.written} bytes`)
  }
}

/**
 * Downloads one large file as parallel byte ranges written at their offsets into `partPath`. The
 * first response, already open, serves the first part; every other connection takes a slot, so
 * that files and parts together never exceed `concurrency`. Returns the verified size and records.
 */
export async function rangedDownload(
  first: IncomingMessage,
  partPath: string,
  ctx: RangedContext
): Promise<{ bytes: number; records: number | undefined }> {
  const parts = planParts(ctx.total, partSizeFor(ctx.total, ctx.concurrency))
  ctx.log.info(
    `${ctx.name}: ${parts.length} parts of up to ${Math.round((parts[0]?.end ?? 0) / MiB)} MiB ` +
      `over up to ${Math.min(parts.length, ctx.concurrency)} connections`
  )
  const md5 = md5FromEtag(ctx.etag)
  const check = checker(ctx.format, md5 !== undefined)
  const file = await onDisk(() => open(partPath, 'w+'))
  const reader = new OrderedReader(file, parts, check.feed)
  const controller = new AbortController()
  const forward = (): void => controller.abort(ctx.signal.reason)
  ctx.signal.addEventListener('abort', forward, { once: true })
  if (ctx.signal.aborted) forward()
  try {
    await onDisk(() => file.truncate(ctx.total))
    const onWritten = (bytes: number): void => {
      ctx.onBytes(bytes)
      reader.poke()
    }
    const retried = (part: Part): Promise<void> =>
      withRetry(() => fetchPart(file, part, ctx, onWritten, controller.signal), {
        maxRetries: ctx.maxRetries,
        baseDelayMs: ctx.retryBaseDelayMs,
        maxDelayMs: ctx.retryMaxDelayMs,
        clock: ctx.clock,
        signal: controller.signal,
        isTransient: error =>
          !controller.signal.aborted && !(error instanceof IntegrityError) && isTransient(error),
        onRetry: ({ error, attempt, maxAttempts, delayMs }) =>
          ctx.log.warning(
            `Download of ${ctx.name} bytes ${part.start + part.written}-${part.end - 1} from ${describeUrl(ctx.url())} ` +
              `failed (${redact(errorMessage(error))}); retry ${attempt} of ${maxAttempts - 1} in ${formatDuration(delayMs)}`
          )
      })
    const queue = parts.slice(1)
    // Once no part is left to start, connections still waiting for a slot are not needed: they
    // must stop waiting, or a file holding its own slot would wait on slots held by the others.
    const drained = new AbortController()
    const drain = async (): Promise<void> => {
      for (let part = queue.shift(); part && !controller.signal.aborted; part = queue.shift()) {
        if (queue.length === 0) drained.abort()
        await retried(part)
      }
      drained.abort()
    }
    const firstPart = parts[0] as Part
    const primary = (async () => {
      try {
        await streamToFile(first, file, firstPart, {
          stallTimeoutMs: ctx.stallTimeoutMs,
          signal: controller.signal,
          onWritten
        })
      } catch (error) {
        if (controller.signal.aborted || !isTransient(error)) throw error
      }
      // The first body may have broken or ended early: what it lacks is fetched as a range.
      if (firstPart.start + firstPart.written < firstPart.end) await retried(firstPart)
      await drain()
    })()
    const extras = Array.from({ length: Math.min(queue.length, ctx.concurrency - 1) }, async () => {
      let release: () => void
      try {
        release = await ctx.slots.acquire(
          ctx.priority,
          AbortSignal.any([controller.signal, drained.signal])
        )
      } catch (error) {
        if (!controller.signal.aborted && drained.signal.aborted) return
        throw error
      }
      try {
        await drain()
      } finally {
        release()
      }
    })
    let failure: { error: unknown } | undefined
    await Promise.all(
      [primary, ...extras].map(task =>
        task.catch((error: unknown) => {
          failure ??= { error }
          controller.abort(error)
        })
      )
    )
    if (failure) throw finalPartError(ctx.name, failure.error)
    const fed = await reader.finish()
    if (fed !== ctx.total) {
      throw new IntegrityError(`only ${fed} of ${ctx.total} bytes were assembled`)
    }
    if (md5 !== undefined) {
      const actual = check.hash?.digest('hex')
      if (actual !== md5) {
        throw new IntegrityError(`its MD5 ${actual ?? ''} does not match the ETag ${md5}`)
      }
    }
    return { bytes: ctx.total, records: check.counter?.total() }
  } finally {
    reader.stop()
    ctx.signal.removeEventListener('abort', forward)
    await file.close()
  }
}

/**
 * Parts already had their retries: a transient failure here is final for the file, or the outer
 * retry would multiply them. A changed file or a refused URL goes up as it is, to restart or
 * refresh the whole file.
 */
function finalPartError(name: string, error: unknown): unknown {
  if (error instanceof IntegrityError || error instanceof RefusedUrlError) return error
  if (error instanceof FatalError || !(error instanceof Error)) return error
  return new FatalError(`Could not download ${name}: ${redact(error.message)}`)
}
