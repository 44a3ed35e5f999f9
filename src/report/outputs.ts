import type { Runner } from '../support/log.js'
import { Outputs } from '../domain/action-io.js'
import {
  creditsOf,
  localFiles,
  recordCount,
  totalBytes,
  totalRows,
  urlsOf,
  type RunReport
} from './report.js'

const text = (value: number | undefined): string => (value === undefined ? '' : String(value))

export function setOutputs(report: RunReport, setOutput: Runner['setOutput']): void {
  setOutput(Outputs.RequestId, report.requestId)
  setOutput(Outputs.Status, report.status)
  setOutput(Outputs.Urls, JSON.stringify(urlsOf(report)))
  setOutput(Outputs.Files, JSON.stringify(localFiles(report).map(file => file.path)))
  setOutput(Outputs.DownloadPath, report.downloadPath)
  setOutput(Outputs.FileCount, String(report.results.length))
  setOutput(Outputs.Shard, report.shard ? `${report.shard.index}/${report.shard.count}` : '')
  setOutput(Outputs.DownloadFileCount, String(report.shard?.totalFiles ?? report.results.length))
  setOutput(Outputs.TotalBytes, String(totalBytes(report)))
  setOutput(Outputs.RecordCount, text(recordCount(report)))
  setOutput(Outputs.RowCount, text(totalRows(report)))
  setOutput(Outputs.NumFound, text(report.bill?.count?.numFound))
  setOutput(Outputs.Credits, text(creditsOf(report.bill)))
  setOutput(Outputs.ExpiresAt, report.expiresAt?.toISOString() ?? '')
  setOutput(Outputs.Since, report.window?.from.toISOString() ?? '')
  setOutput(Outputs.Manifest, report.manifestPath ?? '')
  for (const [name, value] of Object.entries(report.receipt?.outputs ?? {})) setOutput(name, value)
}
