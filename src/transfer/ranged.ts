import { open, type FileHandle } from 'node:fs/promises'
import { AbortFanout, linkedAbort } from '../support/abort.js'
import { TransientError, isTransient, onDisk } from '../support/errors.js'
import { FileFailure } from '../support/failure-text.js'
import { header, type Body } from '../http/transport.js'
import { describeUrl } from '../support/secrets.js'
import { RefusedUrlError, requestFile } from './file-host.js'
import { retried, type Job } from './job.js'
import { Pace } from './pace.js'
import { OrderedReader } from './reader.js'
import { streamToFile, type Part } from './sink.js'
import { recordCounter } from './records.js'
import { IntegrityError, verify, type Verified } from './verify.js'

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

/** The object every part must come from: the same ETag, the same size. */
interface Whole {
  etag: string
  total: number
}

/** One ranged request for what a part still lacks; resumable, so retried on its own. */
async function fetchPart(
  job: Job,
  whole: Whole,
  file: FileHandle,
  part: Part,
  reader: OrderedReader,
  onWritten: (bytes: number) => void,
  signal: AbortSignal
): Promise<void> {
  const from = part.start + part.written
  const { http, clock, stallTimeoutMs } = job.context
  const res = await requestFile(
    http,
    job.file,
    { Range: `bytes=${from}-${part.end - 1}`, 'If-Range': whole.etag },
    [200, 206],
    signal,
    () => clock.now()
  )
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header(res.headers, 'content-range') ?? '')
  const etag = header(res.headers, 'etag')
  if (
    res.status === 200 ||
    !range ||
    Number(range[1]) !== from ||
    Number(range[3]) !== whole.total ||
    (etag !== undefined && etag !== whole.etag)
  ) {
    res.body.destroy()
    // If-Range failed, or an answer for other bytes: not the object whose other parts are on disk.
    throw new IntegrityError(
      res.status === 200 || (etag !== undefined && etag !== whole.etag)
        ? 'the file changed on the host while its parts were downloading'
        : `the host answered the range ${from}-${part.end - 1} with ${range?.[0] ?? 'no Content-Range'}`
    )
  }
  await streamToFile(res.body, file, part, {
    stallTimeoutMs,
    signal,
    onChunk: chunk => reader.take(chunk, part.start + part.written),
    onWritten
  })
  if (part.start + part.written < part.end) {
    throw new TransientError(`part ${from}-${part.end - 1} ended after ${part.written} bytes`)
  }
}

/**
 * Downloads one large file as parallel byte ranges written at their offsets into the job's
 * `.part`. The first response, already open, serves the first part; every other connection takes
 * a slot, so that files and parts together never exceed `concurrency`. Returns the verified size
 * and records.
 */
export async function rangedDownload(
  job: Job,
  first: Body,
  whole: Whole
): Promise<Verified & { bytes: number }> {
  const { context, file: planned } = job
  const parts = planParts(whole.total, partSizeFor(whole.total, context.concurrency))
  const expected = job.remote.expected
  const counter = planned.format ? recordCounter(planned.format) : undefined
  const file = await onDisk(() => open(job.part, 'w+'))
  const digest = context.hasher.open(expected.md5 !== undefined)
  // The digests and the record count need the bytes in order.
  const reader = new OrderedReader(file, parts, chunk => {
    counter?.push(chunk)
    digest.feed(chunk)
  })
  const { controller, dispose } = linkedAbort(job.signal)
  const { signal } = controller
  // Each connection listens to a signal of its own: parts in flight on the file's one signal would
  // add up to a listener each per request, body and retry wait.
  const fanout = new AbortFanout(signal)
  const firstPart = parts[0] as Part
  const pace = new Pace(firstPart, context)
  try {
    await onDisk(() => file.truncate(whole.total))
    const onWritten = (bytes: number): void => {
      job.progress.add(bytes)
      reader.poke()
      pace.check()
    }
    const retriedPart = (part: Part, own: AbortSignal): Promise<void> =>
      retried(
        job,
        own,
        () =>
          `Download of ${planned.name} bytes ${part.start + part.written}-${part.end - 1} from ${describeUrl(planned.url)}`,
        () => fetchPart(job, whole, file, part, reader, onWritten, own),
        error => !(error instanceof IntegrityError) && isTransient(error)
      )
    const queue = parts.slice(1)
    // Once no part is left to start, connections still waiting for a slot are not needed: they
    // must stop waiting, or a file holding its own slot would wait on slots held by the others.
    const drained = new AbortController()
    const drain = async (own: AbortSignal): Promise<void> => {
      for (let part = queue.shift(); part && !own.aborted; part = queue.shift()) {
        if (queue.length === 0) drained.abort()
        await retriedPart(part, own)
      }
      drained.abort()
    }
    // Parts, or the first connection alone when it is already fast (see Pace).
    const plan = pace.decided.then(alone => {
      const size = `${Math.round((firstPart.end - firstPart.start) / MiB)} MiB`
      if (alone) {
        firstPart.end = whole.total
        parts.splice(1)
        queue.length = 0
        drained.abort()
        context.log.info(`${planned.name}: one connection at ${pace.describe()}: no ranges`)
      } else {
        context.log.info(
          `${planned.name}: ${parts.length} parts of up to ${size} ` +
            `over up to ${Math.min(parts.length, context.concurrency)} connections`
        )
      }
    })
    const connection = async (work: (own: AbortSignal) => Promise<void>): Promise<void> => {
      const own = fanout.child()
      try {
        await work(own.signal)
      } finally {
        own.dispose()
      }
    }
    const primary = connection(async own => {
      try {
        await streamToFile(first, file, firstPart, {
          stallTimeoutMs: context.stallTimeoutMs,
          signal: own,
          onChunk: chunk => reader.take(chunk, firstPart.start + firstPart.written),
          onWritten
        })
      } catch (error) {
        if (own.aborted || !isTransient(error)) throw error
      } finally {
        pace.stop()
      }
      await plan
      // The first body may have broken or ended early: what it lacks is fetched as a range.
      if (firstPart.start + firstPart.written < firstPart.end) await retriedPart(firstPart, own)
      await drain(own)
    })
    const extras = Array.from({ length: Math.min(queue.length, context.concurrency - 1) }, () =>
      connection(async own => {
        await plan
        if (queue.length === 0) return
        let release: () => void
        try {
          release = await job.slots.acquire(job.priority, AbortSignal.any([own, drained.signal]))
        } catch (error) {
          if (!own.aborted && drained.signal.aborted) return
          throw error
        }
        try {
          await drain(own)
        } finally {
          release()
        }
      })
    )
    let failure: { error: unknown } | undefined
    await Promise.all(
      [primary, ...extras].map(task =>
        task.catch((error: unknown) => {
          failure ??= { error }
          controller.abort(error)
        })
      )
    )
    if (failure) throw partsFailure(job, failure.error)
    const fed = await reader.finish()
    if (fed !== whole.total) {
      throw new IntegrityError(`only ${fed} of ${whole.total} bytes were assembled`)
    }
    const sums = { records: counter?.total(), ...(await digest.finish(whole.total)) }
    return { bytes: whole.total, ...verify(sums, expected, 'length', job.unconfirmed) }
  } finally {
    pace.stop()
    digest.cancel()
    reader.stop()
    fanout.dispose()
    dispose()
    await file.close()
  }
}

/**
 * Parts already had their retries: any other failure is final for the file, or the file's own
 * retries would multiply them. A changed file or a refused URL goes up as it is, to restart the
 * file or fetch a fresh URL.
 */
function partsFailure(job: Job, error: unknown): unknown {
  if (error instanceof IntegrityError || error instanceof RefusedUrlError) return error
  return new FileFailure(job.file.name, describeUrl(job.file.url), error)
}
