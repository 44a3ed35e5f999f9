import type { Clock } from '../support/clock.js'
import { formatBytes, formatCount } from '../support/format.js'
import type { Logger, Runner } from '../support/log.js'
import { setOutputs } from './outputs.js'
import { recordCount, totalBytes, totalRows, type RunReport } from './report.js'
import { renderSummary } from './summary.js'

/** Where a finished run's report goes. */
export type ReportSink = Pick<Runner, 'info' | 'warning' | 'debug' | 'setOutput' | 'summary'>

/** Outputs, warnings a person should act on, the job summary, and the closing line. */
export async function publishReport(
  report: RunReport,
  sink: ReportSink,
  clock: Clock
): Promise<void> {
  setOutputs(report, sink.setOutput)
  warnAbout(report, sink, clock)
  await sink.summary(renderSummary(report))
  sink.info(conclusion(report))
}

/** Annotations for what a person should act on even when the run succeeded. */
function warnAbout(report: RunReport, log: Logger, clock: Clock): void {
  if (report.expiresAt && report.expiresAt.getTime() - clock.now() < 24 * 3_600_000) {
    log.warning(
      `The result files of download ${report.requestId} expire at ${report.expiresAt.toISOString()}, within 24 hours: ` +
        `fetch them again soon or create a new download.`
    )
  }
}

function conclusion(report: RunReport): string {
  const { bill } = report
  if (bill?.wouldBuy !== undefined) {
    return (
      `Dry run: the query matches ${formatCount(bill.count?.numFound ?? 0)} records, a real run would buy ` +
      `${formatCount(bill.wouldBuy)}; nothing was bought`
    )
  }
  const records = recordCount(report)
  const rows = totalRows(report)
  const parts = [`${report.results.length} file(s)`]
  if (report.downloads) parts.push(formatBytes(totalBytes(report)))
  if (records !== undefined) parts.push(`${formatCount(records)} records`)
  if (rows !== undefined && rows !== records) parts.push(`${formatCount(rows)} rows`)
  return `Datafiniti download ${report.requestId} ${report.status}: ${parts.join(', ')}`
}
