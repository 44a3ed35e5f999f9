import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import * as path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { formatDuration } from './duration.js'
import {
  FatalError,
  HttpStatusError,
  TransientError,
  errorMessage,
  isTransient,
  parseRetryAfter
} from './errors.js'
import { contentLength, readLimited, type Http } from './http.js'
import type { Logger } from './log.js'
import { recordCounter, type RecordFormat } from './records.js'
import { describeUrl, redact } from './redact.js'
import { withRetry, type Clock } from './retry.js'

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
  /** Called with every chunk's size, for progress reports. */
  onBytes?: (bytes: number) => void
  /** Called once per file when its size is known. */
  onSize?: (bytes: number) => void
}

/**
 * Downloads every file into `dir`, at most `concurrency` at once. Each file streams into
 * `<name>.part` and is renamed only when complete; on a final failure every transfer in flight is
 * stopped and no `.part` file is left.
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

  const results: DownloadedFile[] = []
  let next = 0
  let failure: { error: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (!controller.signal.aborted && next < files.length) {
      const index = next++
      const file = files[index] as PlannedFile
      try {
        results[index] = await downloadOne(file, options, controller.signal)
      } catch (error) {
        failure ??= { error }
        controller.abort(error)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, files.length) }, worker))
  } finally {
    options.signal?.removeEventListener('abort', forward)
  }
  if (failure) throw failure.error
  if (controller.signal.aborted) throw controller.signal.reason
  return results
}

async function downloadOne(
  file: PlannedFile,
  options: DownloadOptions,
  signal: AbortSignal
): Promise<DownloadedFile> {
  const target = path.join(options.dir, file.name)
  const part = `${target}.part`
  const where = describeUrl(file.url)
  let sized = false
  return withRetry(
    async () => {
      signal.throwIfAborted()
      try {
        return await transferOnce(file, target, part, options, signal, () => {
          const first = !sized
          sized = true
          return first
        })
      } catch (error) {
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
          `Download of ${where} failed (${redact(errorMessage(error))}); retry ${attempt} of ${maxAttempts - 1} in ${formatDuration(delayMs)}`
        )
    }
  )
}

async function transferOnce(
  file: PlannedFile,
  target: string,
  part: string,
  options: DownloadOptions,
  signal: AbortSignal,
  firstSizing: () => boolean
): Promise<DownloadedFile> {
  // The signed URL is the only credential the file host accepts: no Authorization header here.
  const res = await options.http.getStream(file.url, {})
  if (res.status !== 200) {
    const text = await readLimited(res.body, 16 * 1024).catch(() => '')
    throw fileStatusError(file, res.status, text, res.headers['retry-after'], options.clock.now())
  }
  const expected = contentLength(res.headers)
  if (expected !== undefined && firstSizing()) options.onSize?.(expected)
  const counter = file.format ? recordCounter(file.format) : undefined
  let bytes = 0
  let stall: NodeJS.Timeout | undefined
  const armStallTimer = (): void => {
    clearTimeout(stall)
    stall = setTimeout(() => {
      res.body.destroy(new TransientError(`no data for ${formatDuration(options.stallTimeoutMs)}`))
    }, options.stallTimeoutMs)
  }
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length
      counter?.push(chunk)
      options.onBytes?.(chunk.length)
      armStallTimer()
      callback(null, chunk)
    }
  })
  const onAbort = (): void => {
    res.body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
  }
  signal.addEventListener('abort', onAbort, { once: true })
  armStallTimer()
  try {
    await pipeline(res.body, meter, createWriteStream(part))
  } catch (error) {
    options.onBytes?.(-bytes)
    if (signal.aborted || error instanceof TransientError) throw error
    // A reset or premature close mid-body: the network's fault, so worth a retry.
    throw new TransientError(
      `the connection broke after ${bytes}${expected !== undefined ? ` of ${expected}` : ''} bytes (${errorMessage(error)})`
    )
  } finally {
    clearTimeout(stall)
    signal.removeEventListener('abort', onAbort)
  }
  if (expected !== undefined && bytes !== expected) {
    options.onBytes?.(-bytes)
    throw new TransientError(`the body had ${bytes} bytes but Content-Length said ${expected}`)
  }
  await rename(part, target)
  return { name: file.name, path: target, bytes, records: counter?.total() }
}

/** S3 explains refusals in XML: `<Code>AccessDenied</Code><Message>Request has expired</Message>`. */
function s3Reason(text: string): string {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1]
  const message = /<Message>([^<]{1,200})<\/Message>/.exec(text)?.[1]
  return [code, message].filter(Boolean).join(': ')
}

function fileStatusError(
  file: PlannedFile,
  status: number,
  text: string,
  retryAfter: string | undefined,
  now: number
): Error {
  const where = describeUrl(file.url)
  const reason = s3Reason(text)
  const detail = reason ? ` (${redact(reason)})` : ''
  if (status === 403) {
    return new FatalError(
      `The file host refused ${file.name} from ${where}: HTTP 403${detail}. The signed URL may have expired: ` +
        `result files expire 7 days after Datafiniti makes them.`
    )
  }
  if (status === 404 || status === 410) {
    return new FatalError(`The file host has no ${file.name} (${where}): HTTP ${status}${detail}.`)
  }
  return new HttpStatusError(
    `the file host answered HTTP ${status}${detail} for ${file.name}`,
    status,
    parseRetryAfter(retryAfter, now)
  )
}
