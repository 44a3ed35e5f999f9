import { constants, createReadStream } from 'node:fs'
import { lstat, open, stat, type FileHandle } from 'node:fs/promises'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { DownloadedFile, PlannedFile, VerifiedCopy } from '../domain/model.js'
import { probeRemote, type Remote } from './file-host.js'
import type { TransferContext } from './job.js'
import { checker, sumsOf, type Sums } from './verify.js'

export async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size
  } catch {
    return undefined
  }
}

/** Feeds a file on disk (by path, or an open handle) through `feed`, in large blocks. */
export async function scanFile(
  file: string | FileHandle,
  feed: (chunk: Buffer) => void
): Promise<void> {
  const options = { highWaterMark: 1024 * 1024 }
  await pipeline(
    typeof file === 'string'
      ? createReadStream(file, options)
      : file.createReadStream({ ...options, autoClose: false }),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        feed(chunk)
        callback()
      }
    })
  )
}

// Not on Windows, where lstat alone keeps symlinks out.
const NO_FOLLOW = (constants as Partial<typeof constants>).O_NOFOLLOW ?? 0

/**
 * A re-run over a directory that already holds this file. A one-byte request gives the host's
 * size and ETag; the local copy is kept only when it is a regular file of that size and either its
 * bytes are still those the earlier run verified and recorded for this ETag (sha256), or the ETag
 * is an MD5 (verify.ts says when it is one) that its bytes match. Anything less is downloaded
 * again, and the log says why. `known` is the probe's answer when the disk check already asked.
 */
export async function reuseComplete(
  file: PlannedFile,
  target: string,
  context: TransferContext,
  signal: AbortSignal,
  known?: Remote
): Promise<DownloadedFile | undefined> {
  const local = await lstat(target).catch(() => undefined)
  if (!local) return undefined
  const again = (why: string): undefined => {
    context.log.info(`${file.name}: ${why}: downloading it again`)
    return undefined
  }
  // A link could point anywhere, and what it points to may change under us.
  if (!local.isFile()) return again(`${target} is not a regular file`)
  const remote = known ?? (await probeRemote(context.http, file.url, signal))
  if (!remote) return again('the file host did not say its size and ETag')
  if (remote.total !== local.size) {
    return again(`the copy on disk has ${local.size} bytes, the host's ${remote.total ?? '?'}`)
  }
  const record = context.previous?.get(file.name)
  const md5 = remote.expected.md5
  if (md5 === undefined && !usable(record, remote)) {
    return again(
      record
        ? "the host's ETag is not the one recorded for the copy on disk"
        : 'no record of what was verified when it was written, and no MD5 to check it by'
    )
  }
  const scanned = await scan(target, file, md5 !== undefined)
  if (!scanned || scanned.size !== local.size) {
    return again(`${target} could not be read as the regular file it was`)
  }
  const { sha256, records } = scanned.sums
  const md5Matches = md5 !== undefined && scanned.sums.md5 === md5
  const recordMatches = usable(record, remote) && record.sha256 === sha256
  if (!md5Matches && !recordMatches) {
    return again(
      md5 !== undefined
        ? 'its MD5 does not match the ETag'
        : 'its bytes are not those verified when it was written (sha256)'
    )
  }
  context.log.info(
    `${file.name} is already complete in ${context.dir} (${md5Matches ? 'size and MD5 match' : 'size, ETag and sha256 match the manifest'}): not downloaded again`
  )
  return {
    name: file.name,
    path: target,
    bytes: local.size,
    etag: remote.etag,
    records,
    sha256,
    integrity: md5Matches ? 'md5' : (record?.integrity ?? 'none'),
    reused: true
  }
}

/** A record that vouches for this object: the file was verified then, and the ETag is the same. */
function usable(
  record: VerifiedCopy | undefined,
  remote: Remote
): record is VerifiedCopy & { etag: string } {
  return (
    record !== undefined &&
    record.integrity !== 'none' &&
    record.etag !== undefined &&
    record.etag === remote.etag &&
    record.bytes === remote.total
  )
}

/** The file's bytes through the download's checks, read without following a link. */
async function scan(
  target: string,
  file: PlannedFile,
  md5: boolean
): Promise<{ sums: Sums; size: number } | undefined> {
  let handle: FileHandle
  try {
    handle = await open(target, constants.O_RDONLY | NO_FOLLOW)
  } catch {
    return undefined
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) return undefined
    const check = checker(file.format, md5)
    await scanFile(handle, check.feed)
    return { sums: sumsOf(check), size: info.size }
  } catch {
    return undefined
  } finally {
    await handle.close()
  }
}
