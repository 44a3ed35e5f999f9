import type { CallRunner, DatafinitiClient } from './api/client.js'
import { V3Client } from './api/v3.js'
import { V4Client } from './api/v4.js'
import { waitForResults, type Completed } from './api/wait.js'
import type { DownloadedFile, PlannedFile, QuerySpec } from './domain/download.js'
import { Outputs } from './domain/names.js'
import { artifactNameFor, downloadPathFor, type Settings } from './inputs/settings.js'
import type { Ports } from './ports.js'
import { startProgress } from './report/progress.js'
import { manifestFor, verifiedEarlier, writeManifest } from './report/manifest.js'
import { publishReport } from './report/publish.js'
import type { RunReport } from './report/report.js'
import { FatalError, isTransient, isUnsent } from './support/errors.js'
import { createFailure } from './support/failure.js'
import { formatBytes, formatCount, formatDuration } from './support/format.js'
import { logRetry, retryPolicy, withRetry } from './support/retry.js'
import { describeUrl, signatureSecrets } from './support/secrets.js'
import { assignFileNames } from './transfer/names.js'
import { downloadFiles } from './transfer/pool.js'
import { formatOf } from './transfer/records.js'

/**
 * The whole run: inputs → (create) → wait → download → deliver → report. Every side effect goes
 * through `ports`, so this function is tested with plain objects.
 */
export async function runPipeline(settings: Settings, ports: Ports): Promise<RunReport> {
  const { runner, clock } = ports
  const uploadBlocked = await runner.group('Validate inputs', () =>
    Promise.resolve(preflight(settings, ports))
  )
  const client = apiClient(settings, ports)
  const requestId = settings.requestId ?? (await create(client, settings.query, ports))
  // Set at once: if the wait fails, this is how the user finds the download again.
  runner.setOutput(Outputs.RequestId, requestId)

  const completed = await runner.group(`Wait for download request ${requestId}`, () =>
    waitForResults(client, requestId, {
      pollIntervalMs: settings.pollIntervalMs,
      waitTimeoutMs: settings.waitTimeoutMs,
      clock,
      log: runner,
      signal: ports.signal
    })
  )
  runner.setOutput(Outputs.Status, completed.state.status)
  const report = reportFor(settings, requestId, completed)
  // The signature of a signed URL is the credential: masked in case a later step prints a URL.
  for (const secret of signatureSecrets(report.urls)) runner.setSecret(secret)

  if (settings.mode !== 'urls') {
    // Expired or revoked URLs: ask for the results once more, for fresh ones.
    const refreshUrls = async (): Promise<string[]> =>
      ((await client.getResults(requestId)) ?? []).map(result => result.url)
    const started = clock.now()
    report.files = await runner.group(`Download ${report.urls.length} file(s)`, () =>
      download(plan(report, completed), report.downloadPath, settings, ports, refreshUrls)
    )
    report.downloadMs = clock.now() - started
    report.manifestPath = await writeManifest(
      report.downloadPath,
      manifestFor(report, {
        apiVersion: settings.apiVersion,
        query: settings.query,
        now: clock.now()
      })
    )
  }
  if (settings.mode === 'artifact' && !uploadBlocked) {
    const name = report.artifactName
    report.artifact = await runner.group(`Upload artifact ${name}`, async () => {
      const paths = [...report.files.map(file => file.path), report.manifestPath ?? []].flat()
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
  await publishReport(report, runner, clock)
  return report
}

/**
 * What can be known before any network call: where artifact mode cannot upload, fail now (or go
 * on with the files kept, if the user said so) rather than after an hour of waiting.
 */
function preflight(settings: Settings, { runner, artifacts }: Ports): boolean {
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
  return uploadBlocked
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
    http,
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
  const urls = completed.results.map(result => result.url)
  const expiries = completed.results.map(result => result.expiresAt)
  const times = expiries.flatMap(date => (date ? [date.getTime()] : []))
  return {
    requestId,
    status: completed.state.status,
    mode: settings.mode,
    urls,
    names: assignFileNames(urls),
    expiries,
    files: [],
    downloadPath: downloadPathFor(settings, requestId),
    expiresAt: times.length > 0 ? new Date(Math.min(...times)) : undefined,
    artifact: undefined,
    artifactName: artifactNameFor(settings, requestId),
    manifestPath: undefined,
    waitedMs: completed.waitedMs,
    downloadMs: 0
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
  dir: string,
  settings: Settings,
  { http, clock, runner, signal }: Ports,
  refreshUrls: () => Promise<string[]>
): Promise<DownloadedFile[]> {
  runner.info(`Downloading to ${dir}`)
  // A re-run keeps a local copy only when it is still what this record says was verified.
  const previous = await verifiedEarlier(dir)
  const progress = startProgress('Downloaded', runner, clock)
  try {
    const files = await downloadFiles(planned, {
      dir,
      concurrency: settings.concurrency,
      http,
      clock,
      policy: retryPolicy(settings.maxRetries),
      stallTimeoutMs: settings.stallTimeoutMs,
      log: runner,
      signal,
      refreshUrls,
      onBytes: progress.add,
      onSize: progress.expect,
      previous
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
