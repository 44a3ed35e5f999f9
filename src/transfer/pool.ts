import { createReadStream } from 'node:fs'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import * as path from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
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
  describeRemote,
  fileStatusError,
  header,
  md5FromEtag,
  type Remote
} from './file-host.js'
import {
  getStreamUnlessAborted,
  readLimited,
  type Http,
  type StreamResponse
} from '../support/http.js'
import type { Logger } from '../support/log.js'
import { rangedDownload } from './ranged.js'
import type { RecordFormat } from './records.js'
import { describeUrl, redact } from '../support/secrets.js'
import { type Clock } from '../support/clock.js'
import { withRetry } from '../support/retry.js'
import { streamToFile, type Part } from './sink.js'
import { Slots } from './slots.js'

/** Files at least this large, on hosts that serve ranges, download as parallel parts. */
export const DEFAULT_SPLIT_THRESHOLD = 64 * 1024 * 1024

export interface PlannedFile {
  url: string
  /** Safe local file name, distinct within the download. */
  name: string
  format: RecordFormat | undefined
}

export interface DownloadedFile {
  name: string
  path: string
  bytes: number
  /** Undefined when the format is unknown. */
  records: number | undefined
  /** True when a complete, verified copy was already on disk and nothing was downloaded. */
  reused?: boolean
}

export interface DownloadOptions {
  dir: string
  concurrency: number
  http: Http
  clock: Clock
  maxRetries: number
  retryBaseDelayMs: number
  retryMaxDelayMs: number
  /** A transfer with no bytes for this long is dropped and retried. */
  stallTimeoutMs: number
  log: Logger
  signal?: AbortSignal
  /**
   * Fresh signed URLs for every file, in the same order, for when the file host refuses one
   * (expired). Called at most once per run, however many files are refused.
   */
  refreshUrls?: () => Promise<string[]>
  /** Called with every chunk's size, for progress reports (negative when bytes are discarded). */
  onBytes?: (bytes: number) => void
  /** Called once per file when its size is known. */
  onSize?: (bytes: number) => void
  /** Size from which a file is fetched as parallel ranges (default 64 MiB). */
  splitThreshold?: number
}

/** Where a file stands in the shared pool of connections. */
interface Lane {
  slots: Slots
  priority: number
}

/**
 * Downloads every file into `dir`, at most `concurrency` at once. Each file streams into
 * `<name>.part`, is verified (length, plain-MD5 ETag) and renamed only when complete; on a final
 * failure every transfer in flight is stopped and no `.part` file is left.
 */
export async function downloadFiles(
  files: readonly PlannedFile[],
  options: DownloadOptions
): Promise<DownloadedFile[]> {
  await mkdir(options.dir, { recursive: true })
  const controller = new AbortController()
  const forward = (): void => controller.abort(options.signal?.reason)
  if (options.signal?.aborted) forward()
  options.signal?.addEventListener('abort', forward, { once: true })
  const refresh = options.refreshUrls ? once(options.refreshUrls) : undefined

  const results: DownloadedFile[] = []
  let failure: { error: unknown } | undefined
  // Every connection, to whichever file or part, holds one of these.
  const slots = new Slots(options.concurrency)
  const one = async (file: PlannedFile, index: number): Promise<void> => {
    let release: (() => void) | undefined
    try {
      release = await slots.acquire(index, controller.signal)
      const freshUrl = refresh ? async () => sameObject(file.url, await refresh()) : undefined
      results[index] = await downloadOne(file, options, controller.signal, freshUrl, {
        slots,
        priority: index
      })
    } catch (error) {
      if (!controller.signal.aborted) {
        failure ??= { error }
        controller.abort(error)
      }
    } finally {
      release?.()
    }
  }
  try {
    await Promise.all(files.map(one))
  } finally {
    options.signal?.removeEventListener('abort', forward)
  }
  if (failure) throw failure.error
  if (controller.signal.aborted) throw controller.signal.reason
  return results
}

/**
 * The fresh URL of the same object, whatever its position in the new list: same host and path, or
 * else the only one with the same file name. None rather than a guess.
 */
function sameObject(url: string, fresh: readonly string[]): string | undefined {
  const parse = (u: string): URL | undefined => (URL.canParse(u) ? new URL(u) : undefined)
  const wanted = parse(url)
  if (!wanted) return undefined
  const candidates = fresh.flatMap(u => {
    const parsed = parse(u)
    return parsed ? [{ url: u, parsed }] : []
  })
  const samePath = candidates.find(
    c => c.parsed.host === wanted.host && c.parsed.pathname === wanted.pathname
  )
  if (samePath) return samePath.url
  const name = (u: URL): string => u.pathname.split('/').at(-1) ?? ''
  const sameName = candidates.filter(c => name(c.parsed) === name(wanted))
  return sameName.length === 1 ? sameName[0]?.url : undefined
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined
  return () => (promise ??= fn())
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size
  } catch {
    return undefined
  }
}

async function downloadOne(
  planned: PlannedFile,
  options: DownloadOptions,
  signal: AbortSignal,
  freshUrl: (() => Promise<string | undefined>) | undefined,
  lane: Lane
): Promise<DownloadedFile> {
  const file = { ...planned }
  const target = path.join(options.dir, file.name)
  const part = `${target}.part`
  // A `.part` left by a killed run has no known ETag to resume against: start over.
  await rm(part, { force: true })
  const reused = await reuseComplete(file, target, options, signal)
  if (reused) return reused

  let sized = false
  const job: Job = {
    file,
    target,
    part,
    remote: { total: undefined, etag: undefined, ranges: false },
    progress: { reported: 0 },
    options,
    signal,
    lane,
    firstSizing: () => {
      const first = !sized
      sized = true
      return first
    }
  }
  const attempt = (): Promise<DownloadedFile> =>
    withRetry(
      async () => {
        signal.throwIfAborted()
        try {
          return await transferOnce(job)
        } catch (error) {
          // Corrupt bytes cannot be resumed from; anything final leaves nothing behind.
          if (error instanceof IntegrityError || !isTransient(error))
            await rm(part, { force: true })
          throw error
        }
      },
      {
        maxRetries: options.maxRetries,
        baseDelayMs: options.retryBaseDelayMs,
        maxDelayMs: options.retryMaxDelayMs,
        clock: options.clock,
        signal,
        isTransient: error => !signal.aborted && isTransient(error),
        onRetry: ({ error, attempt, maxAttempts, delayMs }) =>
          options.log.warning(
            `Download of ${file.name} from ${describeUrl(file.url)} failed (${redact(errorMessage(error))}); ` +
              `retry ${attempt} of ${maxAttempts - 1} in ${formatDuration(delayMs)}`
          )
      }
    )
  try {
    try {
      return await attempt()
    } catch (error) {
      // A refused (expired) URL: one more go with a fresh one, outside the retry budget.
      if (!(error instanceof RefusedUrlError) || !freshUrl) throw error
      const url = await freshUrl()
      if (!url) throw error
      options.log.info(
        `${file.name}: the file host refused its URL; fetched fresh URLs from /results`
      )
      file.url = url
      Object.assign(job.remote, { total: undefined, etag: undefined, ranges: false })
      return await attempt()
    }
  } catch (error) {
    await rm(part, { force: true })
    throw finalError(file, error)
  }
}

function finalError(file: PlannedFile, error: unknown): unknown {
  if (error instanceof DiskError) {
    return new FatalError(`Could not save ${file.name} to disk: ${error.message}`)
  }
  if (error instanceof RefusedUrlError || error instanceof FatalError) return error
  if (error instanceof Error && isTransient(error)) {
    return new FatalError(
      `Could not download ${file.name} from ${describeUrl(file.url)}: ${redact(error.message)}`
    )
  }
  return error
}

async function scanFile(file: string, feed: (chunk: Buffer) => void): Promise<void> {
  await pipeline(
    createReadStream(file, { highWaterMark: 1024 * 1024 }),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        feed(chunk)
        callback()
      }
    })
  )
}

/**
 * A re-run over a directory that already holds this file: ask the host for one byte to learn the
 * size and ETag, and keep the local copy when size and (plain) MD5 match.
 */
async function reuseComplete(
  file: PlannedFile,
  target: string,
  options: DownloadOptions,
  signal: AbortSignal
): Promise<DownloadedFile | undefined> {
  const localSize = await sizeOf(target)
  if (localSize === undefined) return undefined
  let remote: Remote
  try {
    const res = await getStreamUnlessAborted(options.http, file.url, { Range: 'bytes=0-0' }, signal)
    res.body.destroy()
    if (res.status !== 206 && res.status !== 200) return undefined
    remote = describeRemote(res.status, res.headers)
  } catch {
    return undefined
  }
  if (remote.total !== localSize) return undefined
  const md5 = md5FromEtag(remote.etag)
  const check = checker(file.format, md5 !== undefined)
  await scanFile(target, check.feed)
  if (md5 !== undefined && check.hash?.digest('hex') !== md5) return undefined
  options.log.info(
    `${file.name} is already complete in ${options.dir} (${md5 ? 'size and MD5 match' : 'size matches'}): not downloaded again`
  )
  return {
    name: file.name,
    path: target,
    bytes: localSize,
    records: check.counter?.total(),
    reused: true
  }
}

/** One file's download, as every attempt at it sees it. */
interface Job {
  file: PlannedFile
  target: string
  /** `<target>.part`, where the bytes land until the file is complete and verified. */
  part: string
  remote: Remote
  /** Bytes of this file reported to onBytes and still counted: taken back when the file restarts. */
  progress: { reported: number }
  options: DownloadOptions
  signal: AbortSignal
  lane: Lane
  /** True the first time only: the file's size goes into the progress total once. */
  firstSizing: () => boolean
}

async function transferOnce(job: Job): Promise<DownloadedFile> {
  const { file, part, remote, options, signal } = job
  const have = (await sizeOf(part)) ?? 0
  const resume =
    have > 0 &&
    remote.ranges &&
    remote.etag !== undefined &&
    remote.total !== undefined &&
    have < remote.total
  // The signed URL is the only credential the file host accepts: no Authorization header here.
  const headers: Record<string, string> = resume
    ? { Range: `bytes=${have}-`, 'If-Range': remote.etag ?? '' }
    : {}
  const res = await getStreamUnlessAborted(options.http, file.url, headers, signal)
  if (res.status !== 200 && !(resume && res.status === 206)) {
    const text = await readLimited(res.body, 16 * 1024).catch(() => '')
    throw fileStatusError(
      file,
      res.status,
      text,
      header(res.headers, 'retry-after'),
      options.clock.now()
    )
  }

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
  const { file, target, part, remote, progress, options, signal, lane, firstSizing } = job
  let offset = 0
  if (res.status === 206) {
    const start = /^bytes (\d+)-/.exec(header(res.headers, 'content-range') ?? '')?.[1]
    if (Number(start) !== have) {
      res.body.destroy()
      throw new IntegrityError(`the host resumed at byte ${start ?? '?'} instead of ${have}`)
    }
    offset = have
    options.log.info(`${file.name}: resuming at byte ${have} of ${remote.total ?? '?'}`)
  } else {
    Object.assign(remote, describeRemote(200, res.headers))
  }
  const expected = remote.total
  if (expected !== undefined && firstSizing()) options.onSize?.(expected)
  // Progress counts what is on disk: take back bytes reported but lost with a broken attempt.
  if (progress.reported !== offset) {
    options.onBytes?.(offset - progress.reported)
    progress.reported = offset
  }

  const threshold = options.splitThreshold ?? DEFAULT_SPLIT_THRESHOLD
  if (
    offset === 0 &&
    remote.ranges &&
    remote.etag !== undefined &&
    expected !== undefined &&
    expected >= threshold &&
    options.concurrency > 1
  ) {
    const { bytes, records } = await rangedDownload(res.body, part, {
      name: file.name,
      url: () => file.url,
      etag: remote.etag,
      total: expected,
      format: file.format,
      http: options.http,
      clock: options.clock,
      slots: lane.slots,
      priority: lane.priority,
      concurrency: options.concurrency,
      maxRetries: options.maxRetries,
      retryBaseDelayMs: options.retryBaseDelayMs,
      retryMaxDelayMs: options.retryMaxDelayMs,
      stallTimeoutMs: options.stallTimeoutMs,
      log: options.log,
      signal,
      onBytes: bytes => {
        progress.reported += bytes
        options.onBytes?.(bytes)
      }
    })
    await onDisk(() => rename(part, target))
    return { name: file.name, path: target, bytes, records }
  }

  const md5 = md5FromEtag(remote.etag)
  const check = checker(file.format, md5 !== undefined)
  // Resuming: the bytes already on disk go through the same counter and hash first.
  if (offset > 0) await scanFile(part, check.feed)

  const disk = await onDisk(() => open(part, offset > 0 ? 'r+' : 'w'))
  const piece: Part = { start: offset, end: expected ?? Number.MAX_SAFE_INTEGER, written: 0 }
  try {
    await streamToFile(res.body, disk, piece, {
      stallTimeoutMs: options.stallTimeoutMs,
      signal,
      onChunk: check.feed,
      onWritten: bytes => {
        progress.reported += bytes
        options.onBytes?.(bytes)
      }
    })
  } finally {
    await disk.close()
  }
  const received = piece.written
  const bytes = offset + received
  if (expected !== undefined && bytes !== expected) {
    // Ended cleanly but short: what arrived is kept and the rest is resumed when the host allows.
    throw new TransientError(`the body ended after ${bytes} of ${expected} bytes`)
  }
  if (md5 !== undefined) {
    const actual = check.hash?.digest('hex')
    if (actual !== md5) {
      throw new IntegrityError(`its MD5 ${actual ?? ''} does not match the ETag ${md5}`)
    }
  }
  await onDisk(() => rename(part, target))
  return { name: file.name, path: target, bytes, records: check.counter?.total() }
}
