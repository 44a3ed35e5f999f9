import { rm } from 'node:fs/promises'
import type { NoResultsAction } from '../domain/model.js'
import { Inputs } from '../domain/action-io.js'
import { FatalError, onDisk } from '../support/errors.js'
import type { Logger } from '../support/log.js'
import { manifestFor, writeManifest } from './manifest.js'
import { localFiles, totalRows, type RunReport } from './report.js'

/**
 * Why a COMPLETED download has nothing to deliver, or undefined when it has: no result files, or
 * (once downloaded) files that hold no records. A query that matched nothing this week is normal on
 * a schedule, so what follows is the user's choice ('if-no-results'), as upload-artifact's
 * `if-no-files-found` is.
 */
function noResultsReason(report: RunReport): string | undefined {
  if (report.results.length === 0) {
    return `Datafiniti download request ${report.requestId} is ${report.status} but lists no result files: nothing to download.`
  }
  const files = localFiles(report)
  if (files.length > 0 && totalRows(report) === 0) {
    return `Download ${report.requestId} holds no records: its ${files.length} file(s) are empty but for headers.`
  }
  return undefined
}

/**
 * Fails (`error`) or settles the run as one that delivered nothing (`warn`, `ignore`): the
 * header-only files are removed, so that `file-count` 0, an empty `files` output and the
 * directory agree, and no artifact is uploaded.
 */
export async function settleNoResults(
  report: RunReport,
  reason: string,
  action: NoResultsAction,
  log: Logger
): Promise<void> {
  for (const file of localFiles(report)) await onDisk(() => rm(file.path, { force: true }))
  if (action === 'error') {
    throw new FatalError(
      `${reason} Failing, as '${Inputs.IfNoResults}: error' asks; with warn or ignore the step succeeds with file-count 0.`
    )
  }
  const delivered = 'Nothing is delivered: file-count is 0 and no artifact is uploaded.'
  if (action === 'warn') {
    log.warning(
      `${reason} ${delivered} Set '${Inputs.IfNoResults}: ignore' to silence this, or error to fail.`
    )
  } else {
    log.info(`${reason} ${delivered}`)
  }
  report.noResults = reason
  report.results = []
}

/**
 * Once the files are on disk (or, in urls mode, listed): settles a run with no results, or writes
 * the manifest beside the files. True when there is something to deliver.
 */
export async function settleResults(
  report: RunReport,
  context: Parameters<typeof manifestFor>[1] & { ifNoResults: NoResultsAction },
  log: Logger
): Promise<boolean> {
  // A shard past the download's last file: the download has results, this job has none of them
  // (the pipeline warned); there is nothing to write or upload, and nothing to fail for.
  if (report.results.length === 0 && (report.shard?.totalFiles ?? 0) > 0) return false
  const reason = noResultsReason(report)
  if (reason !== undefined) {
    await settleNoResults(report, reason, context.ifNoResults, log)
    return false
  }
  if (report.downloads) {
    report.manifestPath = await writeManifest(report.downloadPath, manifestFor(report, context))
  }
  return true
}
