import type { Runner } from '../support/log.js'
import { Outputs } from '../domain/action-io.js'
import { localFiles, totalBytes, totalRecords, urlsOf, type RunReport } from './report.js'

export function setOutputs(report: RunReport, setOutput: Runner['setOutput']): void {
  const records = totalRecords(report)
  setOutput(Outputs.RequestId, report.requestId)
  setOutput(Outputs.Status, report.status)
  setOutput(Outputs.Urls, JSON.stringify(urlsOf(report)))
  setOutput(Outputs.Files, JSON.stringify(localFiles(report).map(file => file.path)))
  setOutput(Outputs.DownloadPath, report.downloadPath)
  setOutput(Outputs.FileCount, String(report.results.length))
  setOutput(Outputs.Shard, report.shard ? `${report.shard.index}/${report.shard.count}` : '')
  setOutput(Outputs.DownloadFileCount, String(report.shard?.totalFiles ?? report.results.length))
  setOutput(Outputs.TotalBytes, String(totalBytes(report)))
  setOutput(Outputs.RecordCount, records === undefined ? '' : String(records))
  setOutput(Outputs.ExpiresAt, report.expiresAt?.toISOString() ?? '')
  setOutput(Outputs.Manifest, report.manifestPath ?? '')
  for (const [name, value] of Object.entries(report.receipt?.outputs ?? {})) setOutput(name, value)
}
