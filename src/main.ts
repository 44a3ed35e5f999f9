import * as core from '@actions/core'
import type { DatafinitiClient } from './api/client.js'
import type { CallRunner } from './api/client.js'
import { V3Client } from './api/v3.js'
import { V4Client } from './api/v4.js'
import { artifactBlocker, uploadArtifact, type ArtifactResult } from './deliver/artifact.js'
import { Inputs, Outputs } from './domain/names.js'
import { Limits } from './inputs/defaults.js'
import { downloadFiles, type DownloadedFile, type PlannedFile } from './transfer/pool.js'
import { formatDuration } from './support/format.js'
import {
  CreateAnswerError,
  FatalError,
  errorMessage,
  isTransient,
  isUnsent
} from './support/errors.js'
import { assignFileNames } from './transfer/names.js'
import { createHttp, type Http } from './support/http.js'
import { formatBytes, formatCount } from './support/format.js'
import { coreLogger } from './support/log.js'
import { setOutputs } from './report/outputs.js'
import { startProgress } from './report/progress.js'
import { formatOf } from './transfer/records.js'
import { describeUrl, redact, registerSecret } from './support/secrets.js'
import { totalBytes, totalRecords, type RunReport } from './report/report.js'
import { systemClock, type Clock } from './support/clock.js'
import { withRetry } from './support/retry.js'
import { inputEnvName } from './domain/names.js'
import {
  artifactNameFor,
  downloadPathFor,
  parseSettings,
  type Settings
} from './inputs/settings.js'
import { renderSummary } from './report/summary.js'
import { waitForResults } from './api/wait.js'

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
  // Node exits when nothing is left to wait for, even with run() unsettled: never as a success.
  const onStall = (): void => {
    core.setFailed(
      'The action stopped before it finished, with nothing left to wait for. This is a bug: please report it.'
    )
  }
  process.once('beforeExit', onStall)
  let http: (Http & { dispose(): void }) | undefined
  try {
    const { settings, uploadBlocked } = await core.group('Validate inputs', () =>
      Promise.resolve(validate(env))
    )
    // The socket timeout catches a host that never answers; a body that stops mid-way is caught
    // sooner, and named, by the downloader's own stall timer.
    http = createHttp({ socketTimeoutMs: settings.stallTimeoutMs * 2 })
    const report = await fetchDownload(settings, uploadBlocked, env, clock, http, controller.signal)
    setOutputs(report, core.setOutput)
    warnAbout(report, clock)
    if (env['GITHUB_STEP_SUMMARY']) await core.summary.addRaw(renderSummary(report)).write()
    core.info(conclusion(report))
  } catch (error) {
    core.setFailed(redact(errorMessage(error), secrets))
  } finally {
    http?.dispose()
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    process.removeListener('beforeExit', onStall)
  }
}

function validate(env: Env): { settings: Settings; uploadBlocked: boolean } {
  const settings = parseSettings(env, process.cwd())
  let uploadBlocked = false
  if (settings.mode === 'artifact') {
    const blocker = artifactBlocker(env)
    if (blocker && settings.artifactFallback !== 'files') throw new FatalError(blocker)
    if (blocker) {
      core.warning(
        `${blocker} 'artifact-fallback: files' is set: the files will be downloaded and kept.`
      )
      uploadBlocked = true
    }
  }
  const source = settings.requestId
    ? `Request ${settings.requestId}`
    : `New ${settings.query?.dataType ?? ''} download from a query`
  core.info(
    `${source} at ${new URL(settings.apiUrl).host} (API ${settings.apiVersion}), mode ${settings.mode}`
  )
  core.info(
    `Poll every ${formatDuration(settings.pollIntervalMs)} for up to ${formatDuration(settings.waitTimeoutMs)}; ` +
      `${settings.concurrency} download(s) at once, ${settings.maxRetries} retries`
  )
  return { settings, uploadBlocked }
}

function apiClient(
  settings: Settings,
  http: Http,
  clock: Clock,
  signal: AbortSignal
): DatafinitiClient {
  const call: CallRunner = (what, fn, options) =>
    withRetry(fn, {
      maxRetries: settings.maxRetries,
      baseDelayMs: 1000,
      maxDelayMs: 30_000,
      clock,
      signal,
      // A create that may have reached the server is never sent again: it could buy the data twice.
      isTransient: options?.idempotent === false ? isUnsent : isTransient,
      ...(options?.deadline !== undefined ? { deadline: options.deadline } : {}),
      onRetry: ({ error, attempt, maxAttempts, delayMs }) =>
        core.warning(
          `${what} failed (${redact(errorMessage(error))}); retry ${attempt} of ${maxAttempts - 1} in ${formatDuration(delayMs)}`
        )
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

async function fetchDownload(
  settings: Settings,
  uploadBlocked: boolean,
  env: Env,
  clock: Clock,
  http: Http,
  signal: AbortSignal
): Promise<RunReport> {
  const client = apiClient(settings, http, clock, signal)
  let requestId = settings.requestId
  if (requestId === undefined) {
    const spec = settings.query as NonNullable<Settings['query']>
    requestId = await core.group('Create download', async () => {
      const records =
        spec.numRecords === 'all'
          ? 'every matching record'
          : `up to ${formatCount(spec.numRecords)} records`
      core.info(`Creating a ${spec.format} download of ${records} of ${spec.dataType}`)
      let id: string
      try {
        id = await client.createDownload(spec)
      } catch (error) {
        throw createFailure(error)
      }
      // Logged at once: if the wait fails, this is how the user finds the download again.
      core.info(`Created download request ${id}`)
      return id
    })
  }
  core.setOutput(Outputs.RequestId, requestId)
  const downloadPath = downloadPathFor(settings, requestId)
  const artifactName = artifactNameFor(settings, requestId)

  const id = requestId
  const completed = await core.group(`Wait for download request ${id}`, () =>
    waitForResults(client, id, {
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
  const expiries = completed.results.flatMap(r => (r.expiresAt ? [r.expiresAt.getTime()] : []))
  const expiresAt = expiries.length > 0 ? new Date(Math.min(...expiries)) : undefined

  const report: RunReport = {
    requestId: id,
    status: completed.state.status,
    mode: settings.mode,
    urls,
    names,
    expiries: completed.results.map(result => result.expiresAt),
    files: [],
    downloadPath,
    expiresAt,
    artifact: undefined,
    artifactName,
    waitedMs: completed.waitedMs,
    downloadMs: 0
  }
  if (settings.mode === 'urls') return report

  const planned: PlannedFile[] = urls.map((url, i) => {
    const name = names[i] ?? `result-${i + 1}`
    return { url, name, format: formatOf(name, completed.state.format) }
  })
  // Expired or revoked URLs: ask for the results once more, for fresh ones in the same order.
  const refreshUrls = async (): Promise<string[]> => {
    const fresh = await client.getResults(id)
    return (fresh ?? []).map(result => result.url)
  }
  const started = clock.now()
  report.files = await core.group(`Download ${planned.length} file(s)`, () =>
    download(planned, downloadPath, settings, clock, http, signal, refreshUrls)
  )
  report.downloadMs = clock.now() - started

  if (settings.mode === 'artifact' && !uploadBlocked) {
    report.artifact = await core.group(`Upload artifact ${artifactName}`, () =>
      upload(report.files, artifactName, downloadPath, settings, env)
    )
  }
  return report
}

async function download(
  planned: PlannedFile[],
  dir: string,
  settings: Settings,
  clock: Clock,
  http: Http,
  signal: AbortSignal,
  refreshUrls: () => Promise<string[]>
): Promise<DownloadedFile[]> {
  core.info(`Downloading to ${dir}`)
  const progress = startProgress('Downloaded', coreLogger, clock)
  try {
    const files = await downloadFiles(planned, {
      dir,
      concurrency: settings.concurrency,
      http,
      clock,
      maxRetries: settings.maxRetries,
      retryBaseDelayMs: 1000,
      retryMaxDelayMs: 30_000,
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
  name: string,
  dir: string,
  settings: Settings,
  env: Env
): Promise<ArtifactResult> {
  const artifact = await uploadArtifact(
    name,
    files.map(file => file.path),
    dir,
    { retentionDays: settings.retentionDays, compressionLevel: settings.compressionLevel },
    env
  )
  core.info(
    `Artifact ${name} uploaded: id ${artifact.id}${artifact.url ? `, ${artifact.url}` : ''}`
  )
  return artifact
}

/**
 * A create that failed without a clear answer from Datafiniti (a dropped connection, a timeout, an
 * answer without a usable id) may still have created, and charged for, a download.
 */
function createFailure(error: unknown): unknown {
  if (error instanceof CreateAnswerError || isUnsent(error)) return error
  return new FatalError(
    `Creating the download failed (${redact(errorMessage(error))}), and the request may have reached ` +
      `Datafiniti: it may have created, and charged for, a download. It was not sent again; look for a ` +
      `new download in the Datafiniti portal before running again.`
  )
}

/** Annotations for what a person should act on even when the run succeeded. */
function warnAbout(report: RunReport, clock: Clock): void {
  if (report.expiresAt && report.expiresAt.getTime() - clock.now() < 24 * 3_600_000) {
    core.warning(
      `The result files of download ${report.requestId} expire at ${report.expiresAt.toISOString()}, within 24 hours: ` +
        `fetch them again soon or create a new download.`
    )
  }
  if (totalRecords(report) === 0) {
    core.warning(
      `Download ${report.requestId} holds no records: its files are empty but for headers.`
    )
  }
}

function conclusion(report: RunReport): string {
  const records = totalRecords(report)
  const parts = [`${report.urls.length} file(s)`]
  if (report.mode !== 'urls') parts.push(formatBytes(totalBytes(report)))
  if (records !== undefined) parts.push(`${formatCount(records)} records`)
  return `Datafiniti download ${report.requestId} ${report.status}: ${parts.join(', ')}`
}
