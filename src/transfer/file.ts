import { open, rename, rm } from 'node:fs/promises'
import * as path from 'node:path'
import type { DownloadedFile, PlannedFile } from '../domain/model.js'
import { TransientError, isTransient, onDisk } from '../support/errors.js'
import { FileFailure } from '../support/failure-text.js'
import { header, type StreamResponse } from '../http/transport.js'
import { describeUrl } from '../support/secrets.js'
import { RefusedUrlError, describeRemote, requestFile, unknownRemote } from './file-host.js'
import {
  DEFAULT_SPLIT_THRESHOLD,
  FileProgress,
  retried,
  type Job,
  type TransferContext,
  type TransferHooks
} from './job.js'
import { rangedDownload } from './ranged.js'
import { reuseComplete, scanFile, sizeOf } from './local-copy.js'
import { streamToFile, type Part } from './sink.js'
import type { Slots } from './slots.js'
import { recordCounter } from './records.js'
import {
  IntegrityError,
  UnconfirmedCopyError,
  verify,
  type Framing,
  type Verified
} from './verify.js'

/** Where one file stands in the run: its signal, its place in the pool, a way to fresh URLs. */
export interface FileSlot {
  signal: AbortSignal
  slots: Slots
  priority: number
  freshUrl: (() => Promise<string | undefined>) | undefined
  /**
   * Files whose copy on disk the disk check already looked at, by name: the verified copy, or
   * undefined when it must be downloaded. These are not probed nor checked again.
   */
  checked: ReadonlyMap<string, DownloadedFile | undefined> | undefined
}

/**
 * One file, start to finish: reuse a verified copy, else transfer it with retries, once more with
 * a fresh URL if the host refused the old one. Anything final leaves no `.part` behind and goes up
 * as a FileFailure naming the file.
 */
export async function downloadOne(
  planned: PlannedFile,
  context: TransferContext,
  hooks: TransferHooks,
  where: FileSlot
): Promise<DownloadedFile> {
  const { signal } = where
  const file = { ...planned }
  const target = path.join(context.dir, file.name)
  const part = `${target}.part`
  // A `.part` left by a killed run has no known ETag to resume against: start over.
  await rm(part, { force: true })
  const reused = where.checked?.has(file.name)
    ? where.checked.get(file.name)
    : await reuseComplete(file, target, context, signal)
  if (reused) return reused

  const job: Job = {
    file,
    target,
    part,
    remote: unknownRemote(),
    context,
    hooks,
    signal,
    slots: where.slots,
    priority: where.priority,
    progress: new FileProgress(hooks)
  }
  const attempt = (): Promise<DownloadedFile> =>
    retried(
      job,
      signal,
      () => `Download of ${file.name} from ${describeUrl(file.url)}`,
      async () => {
        signal.throwIfAborted()
        try {
          return await transferOnce(job)
        } catch (error) {
          if (error instanceof UnconfirmedCopyError) job.unconfirmed = error.sha256
          // Corrupt bytes cannot be resumed from; anything final leaves nothing behind.
          if (error instanceof IntegrityError || !isTransient(error))
            await rm(part, { force: true })
          throw error
        }
      }
    )
  try {
    try {
      return await attempt()
    } catch (error) {
      // A refused (expired) URL: one more go with a fresh one, outside the retry budget.
      if (!(error instanceof RefusedUrlError) || !where.freshUrl) throw error
      const url = await where.freshUrl()
      if (!url) throw error
      context.log.info(
        `${file.name}: the file host refused its URL; fetched fresh URLs from /results`
      )
      file.url = url
      job.remote = unknownRemote()
      return await attempt()
    }
  } catch (error) {
    await rm(part, { force: true })
    throw error instanceof FileFailure
      ? error
      : new FileFailure(file.name, describeUrl(file.url), error)
  }
}

/** One request for the file: all of it, or what the `.part` on disk still lacks. */
async function transferOnce(job: Job): Promise<DownloadedFile> {
  const { file, part, remote, context, signal } = job
  const have = (await sizeOf(part)) ?? 0
  const resume =
    have > 0 &&
    remote.ranges &&
    remote.etag !== undefined &&
    remote.total !== undefined &&
    have < remote.total
  const headers: Record<string, string> = resume
    ? { Range: `bytes=${have}-`, 'If-Range': remote.etag ?? '' }
    : {}
  const res = await requestFile(
    context.http,
    file,
    headers,
    resume ? [200, 206] : [200],
    signal,
    () => context.clock.now()
  )
  try {
    return await receive(job, res, have)
  } catch (error) {
    // Whatever failed before or while reading the body, its connection must not linger.
    res.body.destroy()
    throw error
  }
}

/** Takes a 200 or 206 answer to disk: as one stream, resumed, or as parallel ranges. */
async function receive(
  job: Job,
  res: StreamResponse,
  /** Bytes of the `.part` file on disk when the request was made. */
  have: number
): Promise<DownloadedFile> {
  const { file, target, part, context, signal, progress } = job
  let offset = 0
  if (res.status === 206) {
    const range = header(res.headers, 'content-range') ?? ''
    const [, start, total] = /^bytes (\d+)-\d+\/(\d+)$/.exec(range) ?? []
    const etag = header(res.headers, 'etag')
    // A host that ignores If-Range answers with the bytes of whatever the object now is: only the
    // same object, at the right byte, may be appended to what is on disk.
    if (
      Number(start) !== have ||
      Number(total) !== job.remote.total ||
      (etag !== undefined && etag !== job.remote.etag)
    ) {
      const other = etag !== undefined && etag !== job.remote.etag ? ' of another version' : ''
      job.remote = unknownRemote()
      throw new IntegrityError(
        `the host resumed with ${range || 'no Content-Range'}${other}, not at byte ${have} of the same file`
      )
    }
    offset = have
    context.log.info(`${file.name}: resuming at byte ${have} of ${total}`)
  } else {
    job.remote = describeRemote(200, res.headers)
  }
  const { total: expected, etag, ranges } = job.remote
  progress.size(expected)
  progress.restartAt(offset)

  const threshold = context.splitThreshold ?? DEFAULT_SPLIT_THRESHOLD
  if (
    offset === 0 &&
    ranges &&
    etag !== undefined &&
    expected !== undefined &&
    expected >= threshold &&
    context.concurrency > 1
  ) {
    const done = await rangedDownload(job, res.body, { etag, total: expected })
    accepted(job, done)
    await onDisk(() => rename(part, target))
    return { name: file.name, path: target, etag, ...done }
  }

  const { expected: want } = job.remote
  const counter = file.format ? recordCounter(file.format) : undefined
  const digest = context.hasher.open(want.md5 !== undefined)
  // Each chunk is counted and hashed from the receive buffer, as it is written.
  const feed = (chunk: Buffer): void => {
    counter?.push(chunk)
    digest.feed(chunk)
  }
  const piece: Part = { start: offset, end: expected ?? Number.MAX_SAFE_INTEGER, written: 0 }
  try {
    // Resuming: the bytes already on disk go through the checks first.
    if (offset > 0) await scanFile(part, feed)
    const disk = await onDisk(() => open(part, offset > 0 ? 'r+' : 'w'))
    try {
      await streamToFile(res.body, disk, piece, {
        stallTimeoutMs: context.stallTimeoutMs,
        signal,
        onChunk: feed,
        onWritten: bytes => progress.add(bytes)
      })
    } finally {
      await disk.close()
    }
    const bytes = offset + piece.written
    if (expected !== undefined && bytes !== expected) {
      // Ended cleanly but short: what arrived is kept and the rest is resumed when the host allows.
      throw new TransientError(`the body ended after ${bytes} of ${expected} bytes`)
    }
    const framing: Framing =
      expected !== undefined
        ? 'length'
        : /\bchunked\b/i.test(header(res.headers, 'transfer-encoding') ?? '')
          ? 'chunked'
          : 'close'
    const sums = { records: counter?.total(), ...(await digest.finish(bytes)) }
    const verified = verify(sums, want, framing, job.unconfirmed)
    accepted(job, verified)
    await onDisk(() => rename(part, target))
    return { name: file.name, path: target, bytes, etag, ...verified }
  } finally {
    digest.cancel()
  }
}

/** Says which check the file passed: at debug level, or as a warning when it is a doubtful one. */
function accepted(job: Job, verified: Verified): void {
  const { file, context, remote } = job
  context.log.debug(
    `${file.name}: checked by ${verified.integrity} (${remote.expected.reason}), sha256 ${verified.sha256}`
  )
  if (verified.doubt) context.log.warning(`${file.name}: ${verified.doubt}.`)
}
