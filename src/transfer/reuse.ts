import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { DownloadedFile, PlannedFile } from '../domain/download.js'
import { probeRemote, type Remote } from './file-host.js'
import type { DownloadOptions } from './job.js'
import { checker, verify, type Verified } from './verify.js'

export async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size
  } catch {
    return undefined
  }
}

/** Feeds a file on disk through `feed`, in large blocks. */
export async function scanFile(file: string, feed: (chunk: Buffer) => void): Promise<void> {
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
 * size and ETag (unless `known` is what such a probe answered), and keep the local copy when size
 * and (plain) MD5 match.
 */
export async function reuseComplete(
  file: PlannedFile,
  target: string,
  options: DownloadOptions,
  signal: AbortSignal,
  known?: Remote
): Promise<DownloadedFile | undefined> {
  const localSize = await sizeOf(target)
  if (localSize === undefined) return undefined
  const remote = known ?? (await probeRemote(options.http, file.url, signal))
  if (remote?.total !== localSize) return undefined
  const md5 = remote.expected.md5
  const check = checker(file.format, md5 !== undefined)
  await scanFile(target, check.feed)
  let verified: Verified
  try {
    // No second copy to compare with: an MD5 that does not match means downloading again.
    verified = verify(check, remote.expected, 'length', undefined)
  } catch {
    return undefined
  }
  options.log.debug(`${file.name}: checked by ${verified.integrity} (${remote.expected.reason})`)
  options.log.info(
    `${file.name} is already complete in ${options.dir} (${md5 ? 'size and MD5 match' : 'size matches'}): not downloaded again`
  )
  return {
    name: file.name,
    path: target,
    bytes: localSize,
    etag: remote.etag,
    ...verified,
    reused: true
  }
}
