import * as core from '@actions/core'
import { V3Client, type CallRunner } from './api/v3.js'
import { artifactBlocker, uploadArtifact, type ArtifactResult } from './artifact.js'
import { Inputs, Limits, Outputs } from './constants.js'
import { downloadFiles, type DownloadedFile, type PlannedFile } from './download.js'
import { formatDuration } from './duration.js'
import { FatalError, errorMessage } from './errors.js'
import { assignFileNames } from './filenames.js'
import { createHttp } from './http.js'
import { coreLogger, formatBytes, formatCount } from './log.js'
import { setOutputs } from './outputs.js'
import { formatOf } from './records.js'
import { describeUrl, redact, registerSecret } from './redact.js'
import { totalBytes, totalRecords, type RunReport } from './report.js'
import { systemClock, withRetry, type Clock } from './retry.js'
import { inputEnvName, parseSettings, type Settings } from './settings.js'
import { renderSummary } from './summary.js'
import { startProgress } from './progress.js'
import { waitForResults } from './wait.js'

type Env = Record<string, string | undefined>

/** Masks the token in every form it could take in a log before anything else runs. */
function maskToken(env: Env): string[] {
  const token = (env[inputEnvName(Inputs.Token)] ?? '').trim()
  if (token === '') return []
  const basic = Buffer.from(`${token}:`).toString('base64')
  for (const secret of new Set([token, basic, encodeURIComponent(token)])) {
    core.setSecret(secret)
    registerSecret(secret)
  }
  return [token, basic]
}

/** The signature of a signed URL is the credential: mask it in case a later step prints a URL. */
function maskSignatures(urls: readonly string[]): void {
  for (const url of urls) {
    for (const [key, value] of new URL(url).searchParams) {
      if (/signature|security-token/i.test(key) && value.length >= 8) core.setSecret(value)
    }
  }
}

export async function run(env: Env = process.env, clock: Clock = systemClock): Promise<void> {
  const secrets = maskToken(env)
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals): void => {
    controller.abort(
      new FatalError(`Cancelled by ${signal}: stopped downloads and removed partial files.`)
    )
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let http: ReturnType<typeof createHttp> | undefined
  try {
    const settings = await core.group('Validate inputs', () => Promise.resolve(validate(env)))
    // The socket timeout catches a host that never answers; a body that stops mid-way is caught
    // sooner, and named, by the downloader's own stall timer.
    http = createHttp({ socketTimeoutMs: settings.stallTimeoutMs * 2 })
    const report = await fetchDownload(settings, env, clock, http, controller.signal)
    setOutputs(report, core.setOutput)
    if (env['GITHUB_STEP_SUMMARY']) await core.summary.addRaw(renderSummary(report)).write()
    core.info(conclusion(report))
  } catch (error) {
    core.setFailed(redact(errorMessage(error), secrets))
  } finally {
    http?.dispose()
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}

function validate(env: Env): Settings {
  const settings = parseSettings(env, process.cwd())
  if (settings.mode === 'artifact') {
    const blocker = artifactBlocker(env)
    if (blocker) throw new FatalError(blocker)
  }
  core.info(
    `Request ${settings.requestId} at ${new URL(settings.apiUrl).host}, mode ${settings.mode}`
  )
  if (settings.mode !== 'urls') core.info(`Download directory: ${settings.downloadPath}`)
  core.info(
    `Poll every ${formatDuration(settings.pollIntervalMs)} for up to ${formatDuration(settings.waitTimeoutMs)}; ` +
      `${settings.concurrency} download(s) at once`
  )
  return settings
}

async function fetchDownload(
  settings: Settings,
  env: Env,
  clock: Clock,
  http: ReturnType<typeof createHttp>,
  signal: AbortSignal
): Promise<RunReport> {
  const call: CallRunner = (what, fn, options) =>
    withRetry(fn, {
      maxRetries: settings.maxRetries,
      baseDelayMs: Limits.RetryBaseDelayMs,
      maxDelayMs: Limits.RetryMaxDelayMs,
      clock,
      signal,
      ...(options?.deadline !== undefined ? { deadline: options.deadline } : {}),
      onRetry: ({ error, attempt, maxAttempts, delayMs }) =>
        core.warning(
          `${what} failed (${redact(errorMessage(error))}); retry ${attempt} of ${maxAttempts - 1} in ${formatDuration(delayMs)}`
        )
    })
  const client = new V3Client(http, settings.apiUrl, settings.token, call, () => clock.now())

  const completed = await core.group(`Wait for download request ${settings.requestId}`, () =>
    waitForResults(client, settings.requestId, {
      pollIntervalMs: settings.pollIntervalMs,
      waitTimeoutMs: settings.waitTimeoutMs,
      clock,
      log: coreLogger,
      signal
    })
  )
  core.setOutput(Outputs.Status, completed.state.status)
  const urls = completed.results.map(result => result.url)
  maskSignatures(urls)
  const names = assignFileNames(urls)
  const created = completed.results.flatMap(r => (r.createdAt ? [r.createdAt.getTime()] : []))
  const expiresAt =
    created.length > 0 ? new Date(Math.min(...created) + Limits.ResultLifetimeMs) : undefined

  const report: RunReport = {
    requestId: settings.requestId,
    status: completed.state.status,
    mode: settings.mode,
    urls,
    names,
    files: [],
    downloadPath: settings.downloadPath,
    expiresAt,
    artifact: undefined,
    artifactName: settings.artifactName,
    waitedMs: completed.waitedMs,
    downloadMs: 0
  }
  if (settings.mode === 'urls') return report

  const planned: PlannedFile[] = urls.map((url, i) => {
    const name = names[i] ?? `result-${i + 1}`
    return { url, name, format: formatOf(name, completed.state.format) }
  })
  const started = clock.now()
  // Expired or revoked URLs: ask /results once more for fresh ones, in the same order.
  const refreshUrls = async (): Promise<string[]> => {
    const fresh = await client.getResults(settings.requestId)
    return (fresh ?? []).map(result => result.url)
  }
  report.files = await core.group(`Download ${planned.length} file(s)`, () =>
    download(planned, settings, clock, http, signal, refreshUrls)
  )
  report.downloadMs = clock.now() - started

  if (settings.mode === 'artifact') {
    report.artifact = await core.group(`Upload artifact ${settings.artifactName}`, () =>
      upload(report.files, settings, env)
    )
  }
  return report
}

async function download(
  planned: PlannedFile[],
  settings: Settings,
  clock: Clock,
  http: ReturnType<typeof createHttp>,
  signal: AbortSignal,
  refreshUrls: () => Promise<string[]>
): Promise<DownloadedFile[]> {
  const progress = startProgress('Downloaded', coreLogger, clock)
  try {
    const files = await downloadFiles(planned, {
      dir: settings.downloadPath,
      concurrency: settings.concurrency,
      http,
      clock,
      maxRetries: settings.maxRetries,
      retryBaseDelayMs: Limits.RetryBaseDelayMs,
      retryMaxDelayMs: Limits.RetryMaxDelayMs,
      stallTimeoutMs: settings.stallTimeoutMs,
      log: coreLogger,
      signal,
      refreshUrls,
      onBytes: progress.add,
      onSize: progress.expect
    })
    for (const [i, file] of files.entries()) {
      const records = file.records === undefined ? '' : `, ${formatCount(file.records)} records`
      core.info(
        `${file.name}: ${formatBytes(file.bytes)}${records} from ${describeUrl(planned[i]?.url ?? '')}`
      )
    }
    return files
  } finally {
    progress.stop()
  }
}

async function upload(
  files: DownloadedFile[],
  settings: Settings,
  env: Env
): Promise<ArtifactResult> {
  const artifact = await uploadArtifact(
    settings.artifactName,
    files.map(file => file.path),
    settings.downloadPath,
    { retentionDays: settings.retentionDays, compressionLevel: settings.compressionLevel },
    env
  )
  core.info(
    `Artifact ${settings.artifactName} uploaded: id ${artifact.id}${artifact.url ? `, ${artifact.url}` : ''}`
  )
  return artifact
}

function conclusion(report: RunReport): string {
  const records = totalRecords(report)
  const parts = [`${report.urls.length} file(s)`]
  if (report.mode !== 'urls') parts.push(formatBytes(totalBytes(report)))
  if (records !== undefined) parts.push(`${formatCount(records)} records`)
  return `Datafiniti download ${report.requestId} ${report.status}: ${parts.join(', ')}`
}
