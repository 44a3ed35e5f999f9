import type { Completed } from '../api/wait.js'
import { shardOf, type DownloadedFile, type MatchCount, type PlannedFile } from '../domain/model.js'
import { downloadPathFor, type Settings } from '../inputs/settings.js'
import type { Ports } from '../ports.js'
import { verifiedEarlier } from '../report/manifest.js'
import { startProgress } from '../report/progress.js'
import type { ResultEntry, RunReport } from '../report/report.js'
import { formatBytes, formatCount } from '../support/format.js'
import { retryPolicy } from '../support/retry.js'
import { describeUrl } from '../support/secrets.js'
import { assignFileNames } from '../transfer/file-names.js'
import type { TransferHooks } from '../transfer/job.js'
import { downloadFiles } from '../transfer/pool.js'
import { formatOf } from '../transfer/records.js'

/** The run's report once the result files are listed: this job's share of them, named. */
export function reportFor(
  settings: Settings,
  requestId: string,
  completed: Completed,
  downloads: boolean,
  count?: MatchCount
): RunReport {
  const { shard } = settings
  // Named over the whole list, so that a file has the same name whichever shard takes it.
  const names = assignFileNames(completed.results.map(result => result.url))
  const results: ResultEntry[] = shardOf(
    completed.results.map((result, i) => ({
      url: result.url,
      name: names[i] ?? `result-${i + 1}`,
      expiresAt: result.expiresAt,
      createdAt: result.createdAt
    })),
    shard
  )
  const times = results.flatMap(result => (result.expiresAt ? [result.expiresAt.getTime()] : []))
  return {
    requestId,
    status: completed.state.status,
    downloads,
    results,
    downloadPath: downloadPathFor(settings, requestId),
    expiresAt: times.length > 0 ? new Date(Math.min(...times)) : undefined,
    receipt: undefined,
    manifestPath: undefined,
    waitedMs: completed.waitedMs,
    downloadMs: 0,
    noResults: undefined,
    shard: shard && { ...shard, totalFiles: completed.results.length },
    bill: {
      count,
      records: completed.state.numDownloaded,
      cost: completed.state.totalCost,
      rowsAreRecords:
        names.length > 0 && names.every(name => formatOf(name, completed.state.format) === 'json')
    }
  }
}

/** The report of a query that matched nothing: no request, no files. */
export function noMatchesReport(downloads: boolean): RunReport {
  return {
    requestId: '',
    status: 'NO MATCHES',
    downloads,
    results: [],
    downloadPath: '',
    expiresAt: undefined,
    receipt: undefined,
    manifestPath: undefined,
    waitedMs: 0,
    downloadMs: 0,
    noResults: undefined,
    shard: undefined
  }
}

export function plan(report: RunReport, completed: Completed): PlannedFile[] {
  return report.results.map(({ url, name }) => ({
    url,
    name,
    format: formatOf(name, completed.state.format)
  }))
}

export async function download(
  planned: PlannedFile[],
  { downloadPath: dir, shard }: RunReport,
  settings: Settings,
  { http, clock, runner, signal, disk, hasher }: Ports,
  hooks: Pick<TransferHooks, 'refreshUrls' | 'onFile'>
): Promise<DownloadedFile[]> {
  runner.info(`Downloading to ${dir}`)
  // A re-run keeps a local copy only when it is still what this record says was verified.
  const previous = await verifiedEarlier(dir, shard ?? null)
  const progress = startProgress('Downloaded', runner, clock)
  try {
    const context = {
      dir,
      concurrency: settings.concurrency,
      http: http.files,
      clock,
      policy: retryPolicy(settings.maxRetries),
      stallTimeoutMs: settings.stallTimeoutMs,
      log: runner,
      signal,
      hasher,
      space: { disk, shard, totalFiles: shard?.totalFiles ?? planned.length },
      previous
    }
    const files = await downloadFiles(planned, context, {
      ...hooks,
      onBytes: progress.add,
      onSize: progress.expect
    })
    for (const [i, file] of files.entries()) {
      const records = file.records === undefined ? '' : `, ${formatCount(file.records)} rows`
      runner.info(
        `${file.name}: ${formatBytes(file.bytes)}${records} from ${describeUrl(planned[i]?.url ?? '')}`
      )
    }
    return files
  } finally {
    progress.stop()
  }
}
