import { statfs } from 'node:fs/promises'
import * as path from 'node:path'
import { MAX_SHARDS, type DownloadedFile, type PlannedFile } from '../domain/model.js'
import { AbortFanout } from '../support/abort.js'
import { FatalError } from '../support/errors.js'
import { formatBytes, formatCount } from '../support/format.js'
import { probeRemote, type Remote } from './file-host.js'
import type { SpaceCheck, TransferContext } from './job.js'
import { reuseComplete, sizeOf } from './local-copy.js'

/** Room kept free besides the files: the manifest, file-system blocks and metadata. */
export const MARGIN_BYTES = 1024 * 1024
/** Per file to download: its last, partly filled block and its manifest entry. */
export const MARGIN_PER_FILE = 8 * 1024

interface Probed {
  remote: Remote | undefined
  /** A complete, verified copy already on disk. */
  reused: DownloadedFile | undefined
  /** A `.part` left by a killed run: it is restarted, so its bytes are freed first. */
  partBytes: number
}

/**
 * Before the first byte of any file: asks the host for each file's size (one byte of it), counts
 * what is already complete on disk as done, and fails when the rest does not fit in the free
 * space of the target file system. Every file counts whole: concurrent files and ranged parts
 * (which reserve their full size at once) all end up on disk together.
 *
 * Returns the copies on disk it checked, by name, for `downloadFiles`' `checked`.
 */
export async function checkDiskSpace(
  files: readonly PlannedFile[],
  context: TransferContext,
  check: SpaceCheck
): Promise<Map<string, DownloadedFile | undefined>> {
  const { signal } = context
  context.log.info(`Checking disk space: the size of ${files.length} file(s) from the file host`)
  // Each probe listens to a signal of its own: up to 64 of them on the run's one signal would
  // be a MaxListenersExceededWarning.
  const fanout = new AbortFanout(signal)
  let probed: Probed[]
  try {
    probed = await mapLimited(files, context.concurrency, async file => {
      const own = fanout.child()
      try {
        return await probe(file, context, own.signal)
      } finally {
        own.dispose()
      }
    })
  } finally {
    fanout.dispose()
  }
  signal.throwIfAborted()

  const checked = new Map<string, DownloadedFile | undefined>()
  const sizes: number[] = []
  let unknown = 0
  let freed = 0
  for (const [i, { remote, reused, partBytes }] of probed.entries()) {
    freed += partBytes
    if (remote) checked.set(files[i]?.name ?? '', reused)
    if (reused) continue
    if (remote?.total === undefined) unknown++
    else sizes.push(remote.total)
  }
  const needed = sizes.reduce((sum, size) => sum + size, 0)
  const toFetch = sizes.length + unknown
  const free = await check.disk.freeBytes(context.dir)
  const done = files.length - toFetch
  const parts = [
    `${formatCount(toFetch)} file(s) to download${sizes.length > 0 ? `, ${describe(needed)}` : ''}`,
    unknown > 0 ? `${formatCount(unknown)} of unknown size, not counted` : undefined,
    done > 0 ? `${formatCount(done)} already complete on disk` : undefined,
    free === undefined ? 'free space unknown' : `${describe(free)} free`
  ].filter(Boolean)
  context.log.info(`Disk space in ${context.dir}: ${parts.join('; ')}`)
  if (free === undefined || needed === 0) return checked

  const margin = MARGIN_BYTES + MARGIN_PER_FILE * toFetch
  const available = free + freed
  if (needed + margin > available) {
    throw new FatalError(
      notEnoughSpace(context.dir, { needed, margin, free, freed, files: toFetch }, sizes, check)
    )
  }
  return checked
}

async function probe(
  file: PlannedFile,
  context: TransferContext,
  signal: AbortSignal
): Promise<Probed> {
  const target = path.join(context.dir, file.name)
  const partBytes = (await sizeOf(`${target}.part`)) ?? 0
  const remote = await probeRemote(context.http, file.url, signal)
  let reused: DownloadedFile | undefined
  try {
    reused = remote ? await reuseComplete(file, target, context, signal, remote) : undefined
  } catch {
    // The copy could not be read: the download replaces it, and says so if that fails too.
  }
  return { remote, reused, partBytes }
}

function describe(bytes: number): string {
  return `${formatBytes(bytes)} (${formatCount(bytes)} bytes)`
}

function notEnoughSpace(
  dir: string,
  space: { needed: number; margin: number; free: number; freed: number; files: number },
  sizes: readonly number[],
  check: SpaceCheck
): string {
  const { needed, margin, free, freed, files } = space
  const whose = check.shard ? `shard ${check.shard.index} of ${check.shard.count}: its` : 'its'
  const freedText = freed > 0 ? ` and ${describe(freed)} of unfinished .part files to restart` : ''
  const head =
    `Not enough disk space for the download in ${dir} (${whose} ${formatCount(files)} file(s) still to ` +
    `download). They need ${describe(needed)} plus ${formatBytes(margin)} to spare; the file system ` +
    `has ${describe(free)} free${freedText}. Nothing was downloaded.`
  const usable = free + freed - margin
  const largest = Math.max(0, ...sizes)
  const count = check.shard?.count ?? 1
  const shards = usable > 0 ? Math.max(count + 1, Math.ceil((count * needed) / usable)) : Infinity
  const path = `set 'path' to a directory on a larger disk`
  if (largest > usable || shards > Math.min(MAX_SHARDS, check.totalFiles)) {
    return `${head} No shard count makes it fit (its largest file is ${describe(largest)}): ${path}.`
  }
  const split = check.shard
    ? `split it into more shards: 'shard: K/N' with N = ${shards} or more instead of ${count}`
    : `split it across matrix jobs: 'shard: K/N' with N = ${shards} or more, one job per K from 1 to N`
  return `${head} To fix it, ${split} (docs/large-downloads.md), or ${path}.`
}

/** `fn` over every item, at most `limit` at a time, results in order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>
): Promise<R[]> {
  const results: R[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/**
 * Bytes this process may still write on the file system that holds `dir`, or undefined when the
 * file system does not say. The download directory usually does not exist yet: the nearest
 * existing ancestor is on the file system it will be created on.
 */
export async function freeBytesAt(dir: string): Promise<number | undefined> {
  let at = path.resolve(dir)
  for (;;) {
    try {
      const fs = await statfs(at)
      // bavail, not bfree: blocks reserved for root are no use to a runner's user.
      return fs.bavail * fs.bsize
    } catch (error) {
      const parent = path.dirname(at)
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) return undefined
      at = parent
    }
  }
}
