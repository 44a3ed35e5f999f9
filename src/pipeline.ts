import { NoMatchesError } from './api/response.js'
import { createOnce } from './api/create-once.js'
import { waitForResults } from './api/wait.js'
import { deliveryFor } from './deliver/targets.js'
import { Outputs } from './domain/action-io.js'
import type { Settings } from './inputs/settings.js'
import type { Ports } from './ports.js'
import { newRunState, type RunState } from './report/failure-summary.js'
import { settleNoResults, settleResults } from './report/no-results.js'
import { publishReport } from './report/publish.js'
import { localFiles, shardLine, type RunReport } from './report/report.js'
import { announce } from './steps/announce.js'
import { apiClient, create } from './steps/api.js'
import { download, noMatchesReport, plan, reportFor } from './steps/download.js'
import { dryRun, estimate } from './steps/estimate.js'
import { keepMark, planQuery } from './steps/incremental.js'
import type { MatchCount } from './domain/model.js'

/**
 * The whole run: inputs → (create) → wait → download → deliver → report. Every side effect goes
 * through `ports`, so this function is tested with plain objects.
 */
export async function runPipeline(
  settings: Settings,
  ports: Ports,
  state: RunState = newRunState()
): Promise<RunReport> {
  const { runner, clock } = ports
  const { apiVersion, query, ifNoResults } = settings
  const delivery = deliveryFor(settings, ports)
  await runner.group('Validate inputs', async () => {
    announce(settings, runner)
    await delivery.beforeCreate(settings.requestId)
  })
  const client = apiClient(settings, ports)
  state.stage = settings.requestId ? 'wait' : 'create'
  // The window (`since`) is composed onto the query here, before anything counts or creates.
  const queryPlan = await planQuery(settings, ports)
  const spec = queryPlan.spec
  if (spec && settings.dryRun) {
    // Counted on the very spec a real run would create; nothing is created, the mark stays.
    const report = await dryRun(client, spec, settings, ports, delivery.downloads)
    report.window = queryPlan.window
    await publishReport(report, runner, clock)
    return report
  }
  let requestId: string
  let matches: MatchCount | undefined
  try {
    requestId =
      settings.requestId ??
      (await createOnce(
        async () => {
          // Right before the create, on the spec it sends: a re-run reusing a download skips both.
          if (spec) matches = await estimate(client, spec, settings, ports)
          queryPlan.created = true
          return create(client, spec, ports)
        },
        settings,
        ports.memory,
        runner
      ))
  } catch (error) {
    // A query that matched nothing made no download: the user's `if-no-results` says what next.
    if (!(error instanceof NoMatchesError)) throw error
    const report = noMatchesReport(delivery.downloads)
    report.window = queryPlan.window
    if (matches)
      report.bill = { count: matches, records: undefined, cost: undefined, rowsAreRecords: false }
    await settleNoResults(report, error.message, ifNoResults, runner)
    // Nothing matched when the download was asked for: the next window may start from then.
    await keepMark(settings, queryPlan, '', ports)
    await publishReport(report, runner, clock)
    return report
  }
  await delivery.beforeWait(requestId)
  state.requestId = requestId
  // Set at once: if the wait fails, this is how the user finds the download again.
  runner.setOutput(Outputs.RequestId, requestId)

  state.stage = 'wait'
  const completed = await runner.group(`Wait for download request ${requestId}`, () =>
    waitForResults(client, requestId, {
      pollIntervalMs: settings.pollIntervalMs,
      waitTimeoutMs: settings.waitTimeoutMs,
      clock,
      log: runner,
      signal: ports.signal
    })
  )
  state.status = completed.state.status
  runner.setOutput(Outputs.Status, completed.state.status)
  const report = reportFor(settings, requestId, completed, delivery.downloads, matches)
  report.window = queryPlan.window
  const count = report.results.length
  // A shard past the last file has nothing to do: worth a warning, not a failure.
  if (report.shard) runner[count > 0 ? 'info' : 'warning'](shardLine(report.shard, count))

  if (delivery.downloads && count > 0) {
    state.stage = 'download'
    Object.assign(state, { filesTotal: count, downloadPath: report.downloadPath })
    // Expired or revoked URLs: ask for the results once more, for fresh ones.
    const refreshUrls = async (): Promise<string[]> =>
      ((await client.getResults(requestId)) ?? []).map(result => result.url)
    const started = clock.now()
    const files = await runner.group(`Download ${count} file(s)`, () =>
      download(plan(report, completed), report, settings, ports, {
        refreshUrls,
        onFile: file => {
          state.filesDone++
          state.bytesDone += file.bytes
        }
      })
    )
    report.results.forEach((result, i) => (result.local = files[i]))
    report.downloadMs = clock.now() - started
  }
  const delivered = await settleResults(
    report,
    { apiVersion, query, ifNoResults, now: clock.now() },
    runner
  )
  if (delivered) {
    state.stage = 'deliver'
    const paths = [...localFiles(report).map(file => file.path), report.manifestPath ?? []].flat()
    report.receipt = await delivery.deliver({ requestId, paths, root: report.downloadPath })
  }
  // Only a run that got this far has delivered: a failed or cancelled one never moves the mark.
  await keepMark(settings, queryPlan, requestId, ports)
  state.stage = 'report'
  await publishReport(report, runner, clock)
  return report
}
