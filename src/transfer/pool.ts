import { mkdir } from 'node:fs/promises'
import type { DownloadedFile, PlannedFile } from '../domain/model.js'
import { AbortFanout, linkedAbort } from '../support/abort.js'
import { downloadOne } from './file.js'
import { checkDiskSpace } from './disk-space.js'
import type { TransferContext, TransferHooks } from './job.js'
import { Slots } from './slots.js'

/**
 * Downloads every file into `dir`, at most `concurrency` connections at once. Each file streams
 * into `<name>.part`, is verified (length, plain-MD5 ETag) and renamed only when complete; on a
 * final failure every transfer in flight is stopped and no `.part` file is left. With `space`, fails
 * before the first byte when the files cannot fit on the disk.
 */
export async function downloadFiles(
  files: readonly PlannedFile[],
  context: TransferContext,
  hooks: TransferHooks = {}
): Promise<DownloadedFile[]> {
  if (files.length > 0) context.hasher.prepare()
  const checked = context.space ? await checkDiskSpace(files, context, context.space) : undefined
  await mkdir(context.dir, { recursive: true })
  const { controller, dispose } = linkedAbort(context.signal)
  const refresh = hooks.refreshUrls ? once(hooks.refreshUrls) : undefined

  const results: DownloadedFile[] = []
  let failure: { error: unknown } | undefined
  // Files waiting for a connection, and files in flight, listen to the run's signal through these:
  // one listener on it each, however many files there are.
  const slots = new Slots(context.concurrency, controller.signal)
  const fanout = new AbortFanout(controller.signal)
  const one = async (file: PlannedFile, index: number): Promise<void> => {
    let release: (() => void) | undefined
    const own = fanout.child()
    try {
      release = await slots.acquire(index)
      const freshUrl = refresh ? async () => sameObject(file.url, await refresh()) : undefined
      results[index] = await downloadOne(file, context, hooks, {
        signal: own.signal,
        slots,
        priority: index,
        freshUrl,
        checked
      })
      hooks.onFile?.(results[index])
    } catch (error) {
      if (!controller.signal.aborted) {
        failure ??= { error }
        controller.abort(error)
      }
    } finally {
      own.dispose()
      release?.()
    }
  }
  try {
    await Promise.all(files.map(one))
  } finally {
    fanout.dispose()
    dispose()
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
