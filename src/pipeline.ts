import type { CallRunner, DatafinitiClient } from './api/client.js'
import { createOnce } from './api/reuse.js'
import { V3Client } from './api/v3.js'
import { V4Client } from './api/v4.js'
import { waitForResults, type Completed } from './api/wait.js'
import { checkArtifactName, replaceArtifact } from './deliver/clash.js'
import {
  shardOf,
  type DownloadedFile,
  type PlannedFile,
  type QuerySpec
} from './domain/download.js'
import { Outputs } from './domain/names.js'
import { artifactNameFor, downloadPathFor, type Settings } from './inputs/settings.js'
import type { Ports } from './ports.js'
import { startProgress } from './report/progress.js'
import { newRunProgress, type RunProgress } from './report/failure.js'
import { settleResults } from './report/no-results.js'
import { publishReport } from './report/publish.js'
import { shardLine, type RunReport } from './report/report.js'
import { FatalError, isTransient, isUnsent } from './support/errors.js'
import { createFailure } from './support/failure.js'
import { formatBytes, formatCount, formatDuration } from './support/format.js'
import { logRetry, retryPolicy, withRetry } from './support/retry.js'
import { describeUrl, signatureSecrets } from './support/secrets.js'
import { assignFileNames } from './transfer/names.js'
import { downloadFiles, type DownloadOptions } from './transfer/pool.js'
import { formatOf } from './transfer/records.js'

/**
 * The whole run: inputs → (create) → wait → download → deliver → report. Every side effect goes
 * through `ports`, so this function is tested with plain objects.
 */
export async function runPipeline(
  settings: Settings,
  ports: Ports,
  progress: RunProgress = newRunProgress()
): Promise<RunReport> {
  const { runner, clock } = ports
  const { apiVersion, query, ifNoResults } = settings
  const { uploadBlocked, nameChecked } = await runner.group('Validate inputs', () =>
    preflight(settings, ports)
  )
  const client = apiClient(settings, ports)
  progress.stage = settings.requestId ? 'wait' : 'create'
  const requestId =
    settings.requestId ??
    (await createOnce(() => create(client, settings.query, ports), settings, ports.memory, runner))
  if (settings.mode === 'artifact' && !uploadBlocked && !nameChecked) {
    // The default name holds the request id: checked once it is known, still before the wait.
    const name = artifactNameFor(settings, requestId)
    await checkArtifactName(name, settings.overwrite, ports.artifacts, runner)
  }
  progress.requestId = requestId
  // Set at once: if the wait fails, this is how the user finds the download again.
  runner.setOutput(Outputs.RequestId, requestId)

  progress.stage = 'wait'
  const completed = await runner.group(`Wait for download request ${requestId}`, () =>
    waitForResults(client, requestId, {
      pollIntervalMs: settings.pollIntervalMs,
      waitTimeoutMs: settings.waitTimeoutMs,
      clock,
      log: runner,
      signal: ports.signal
    })
  )
  progress.status = completed.state.status
  runner.setOutput(Outputs.Status, completed.state.status)
  const report = reportFor(settings, requestId, completed)
  // A shard past the last file has nothing to do: worth a warning, not a failure.
  if (report.shard)
    runner[report.urls.length > 0 ? 'info' : 'warning'](shardLine(report.shard, report.urls.length))
  // The signature of a signed URL is the credential: masked in case a later step prints a URL.
  for (const secret of signatureSecrets(report.urls)) runner.setSecret(secret)

  if (settings.mode !== 'urls' && report.urls.length > 0) {
    progress.stage = 'download'
    Object.assign(progress, { filesTotal: report.urls.length, downloadPath: report.downloadPath })
    // Expired or revoked URLs: ask for the results once more, for fresh ones.
    const refreshUrls = async (): Promise<string[]> =>
      ((await client.getResults(requestId)) ?? []).map(result => result.url)
    const started = clock.now()
    report.files = await runner.group(`Download ${report.urls.length} file(s)`, () =>
      download(plan(report, completed), report, settings, ports, {
        refreshUrls,
        onFile: file => {
          progress.filesDone++
          progress.bytesDone += file.bytes
        }
      })
    )
    report.downloadMs = clock.now() - started
  }
  const delivered = await settleResults(
    report,
    { apiVersion, query, ifNoResults, now: clock.now() },
    runner
  )
  if (settings.mode === 'artifact' && !uploadBlocked && delivered) {
    progress.stage = 'upload'
    const name = report.artifactName
    report.artifact = await runner.group(`Upload artifact ${name}`, async () => {
      const paths = [...report.files.map(file => file.path), report.manifestPath ?? []].flat()
      if (settings.overwrite) await replaceArtifact(name, ports.artifacts, runner)
      const artifact = await ports.artifacts.upload(name, paths, report.downloadPath, {
        retentionDays: settings.retentionDays,
        compressionLevel: settings.compressionLevel
      })
      runner.info(
        `Artifact ${name} uploaded: id ${artifact.id}${artifact.url ? `, ${artifact.url}` : ''}`
      )
      return artifact
    })
  }
  progress.stage = 'report'
  await publishReport(report, runner, clock)
  return report
}

/**
 * What can be known before any network call: where artifact mode cannot upload, fail now (or go
 * on with the files kept, if the user said so) rather than after an hour of waiting.
 */
async function preflight(
  settings: Settings,
  { runner, artifacts }: Ports
): Promise<{ uploadBlocked: boolean; nameChecked: boolean }> {
  let uploadBlocked = false
  const blocker = settings.mode === 'artifact' ? artifacts.blocker() : undefined
  if (blocker !== undefined) {
    if (settings.artifactFallback !== 'files') throw new FatalError(blocker)
    runner.warning(
      `${blocker} 'artifact-fallback: files' is set: the files will be downloaded and kept.`
    )
    uploadBlocked = true
  }
  const source = settings.requestId
    ? `Request ${settings.requestId}`
    : `New ${settings.query?.dataType ?? ''} download from a query`
  runner.info(
    `${source} at ${new URL(settings.apiUrl).host} (API ${settings.apiVersion}), mode ${settings.mode}`
  )
  runner.info(
    `Poll every ${formatDuration(settings.pollIntervalMs)} for up to ${formatDuration(settings.waitTimeoutMs)}; ` +
      `${settings.concurrency} download(s) at once, ${settings.maxRetries} retries`
  )
  // Known before anything is created when given, or when the request id is.
  const name = settings.requestId
    ? artifactNameFor(settings, settings.requestId)
    : settings.artifactName
  const nameChecked = settings.mode === 'artifact' && !uploadBlocked && name !== ''
  if (nameChecked) await checkArtifactName(name, settings.overwrite, artifacts, runner)
  return { uploadBlocked, nameChecked }
}

function apiClient(settings: Settings, { http, clock, runner, signal }: Ports): DatafinitiClient {
  const policy = retryPolicy(settings.maxRetries)
  const call: CallRunner = (what, fn, options) =>
    withRetry(fn, {
      ...policy,
      clock,
      signal,
      // A create that may have reached the server is never sent again: it could buy the data twice.
      isTransient: options?.idempotent === false ? isUnsent : isTransient,
      ...(options?.deadline !== undefined ? { deadline: options.deadline } : {}),
      onRetry: logRetry(runner, () => what)
    })
  const Client = settings.apiVersion === 'v4' ? V4Client : V3Client
  return new Client({
    http: http.api,
    baseUrl: settings.apiUrl,
    token: settings.token,
    call,
    now: () => clock.now()
  })
}

async function create(
  client: DatafinitiClient,
  spec: QuerySpec | undefined,
  { runner }: Ports
): Promise<string> {
  if (!spec) throw new FatalError('Neither a request id nor a query to create a download from.')
  return runner.group('Create download', async () => {
    const records =
      spec.numRecords === 'all'
        ? 'every matching record'
        : `up to ${formatCount(spec.numRecords)} records`
    runner.info(`Creating a ${spec.format} download of ${records} of ${spec.dataType}`)
    let id: string
    try {
      id = await client.createDownload(spec)
    } catch (error) {
      throw createFailure(error)
    }
    runner.info(`Created download request ${id}`)
    return id
  })
}

function reportFor(settings: Settings, requestId: string, completed: Completed): RunReport {
  const { shard } = settings
  // Named over the whole list, so that a file has the same name whichever shard takes it.
  const names = shardOf(assignFileNames(completed.results.map(result => result.url)), shard)
  const results = shardOf(completed.results, shard)
  const urls = results.map(result => result.url)
  const expiries = results.map(result => result.expiresAt)
  const created = results.map(result => result.createdAt)
  const times = expiries.flatMap(date => (date ? [date.getTime()] : []))
  return {
    requestId,
    status: completed.state.status,
    mode: settings.mode,
    urls,
    names,
    expiries,
    created,
    files: [],
    downloadPath: downloadPathFor(settings, requestId),
    expiresAt: times.length > 0 ? new Date(Math.min(...times)) : undefined,
    artifact: undefined,
    artifactName: artifactNameFor(settings, requestId),
    manifestPath: undefined,
    waitedMs: completed.waitedMs,
    downloadMs: 0,
    noResults: undefined,
    shard: shard && { ...shard, totalFiles: completed.results.length }
  }
}

function plan(report: RunReport, completed: Completed): PlannedFile[] {
  return report.urls.map((url, i) => {
    const name = report.names[i] ?? `result-${i + 1}`
    return { url, name, format: formatOf(name, completed.state.format) }
  })
}

async function download(
  planned: PlannedFile[],
  { downloadPath: dir, shard }: RunReport,
  settings: Settings,
  { http, clock, runner, signal, disk }: Ports,
  hooks: Pick<DownloadOptions, 'refreshUrls' | 'onFile'>
): Promise<DownloadedFile[]> {
  runner.info(`Downloading to ${dir}`)
  const progress = startProgress('Downloaded', runner, clock)
  try {
    const files = await downloadFiles(planned, {
      dir,
      concurrency: settings.concurrency,
      http: http.files,
      clock,
      policy: retryPolicy(settings.maxRetries),
      stallTimeoutMs: settings.stallTimeoutMs,
      log: runner,
      signal,
      ...hooks,
      onBytes: progress.add,
      onSize: progress.expect,
      space: { freeBytes: disk.freeBytes, shard, totalFiles: shard?.totalFiles ?? planned.length }
    })
    for (const [i, file] of files.entries()) {
      const records = file.records === undefined ? '' : `, ${formatCount(file.records)} records`
      runner.info(
        `${file.name}: ${formatBytes(file.bytes)}${records} from ${describeUrl(planned[i]?.url ?? '')}`
      )
    }
    return files
  } finally {
    progress.stop()
  }
}
