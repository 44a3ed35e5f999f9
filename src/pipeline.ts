import { NoMatchesError } from './api/response.js'
import { createOnce } from './api/create-once.js'
import { waitForResults } from './api/wait.js'
import { checkArtifactName, replaceArtifact } from './deliver/clash.js'
import { Outputs } from './domain/action-io.js'
import { artifactNameFor, type Settings } from './inputs/settings.js'
import type { Ports } from './ports.js'
import { newRunProgress, type RunProgress } from './report/failure-summary.js'
import { settleNoResults, settleResults } from './report/no-results.js'
import { publishReport } from './report/publish.js'
import { shardLine, type RunReport } from './report/report.js'
import { signatureSecrets } from './support/secrets.js'
import { apiClient, create } from './steps/api.js'
import { download, noMatchesReport, plan, reportFor } from './steps/download.js'
import { preflight } from './steps/announce.js'

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
  let requestId: string
  try {
    requestId =
      settings.requestId ??
      (await createOnce(
        () => create(client, settings.query, ports),
        settings,
        ports.memory,
        runner
      ))
  } catch (error) {
    // A query that matched nothing made no download: the user's `if-no-results` says what next.
    if (!(error instanceof NoMatchesError)) throw error
    const report = noMatchesReport(settings)
    await settleNoResults(report, error.message, ifNoResults, runner)
    await publishReport(report, runner, clock)
    return report
  }
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
