import type { Runner } from '../support/log.js'
import { Outputs } from '../domain/action-io.js'
import { totalBytes, totalRecords, type RunReport } from './report.js'

export function setOutputs(report: RunReport, setOutput: Runner['setOutput']): void {
  const records = totalRecords(report)
  setOutput(Outputs.RequestId, report.requestId)
  setOutput(Outputs.Status, report.status)
  setOutput(Outputs.Urls, JSON.stringify(report.urls))
  setOutput(Outputs.Files, JSON.stringify(report.files.map(file => file.path)))
  setOutput(Outputs.DownloadPath, report.downloadPath)
  setOutput(Outputs.FileCount, String(report.urls.length))
  setOutput(Outputs.Shard, report.shard ? `${report.shard.index}/${report.shard.count}` : '')
  setOutput(Outputs.DownloadFileCount, String(report.shard?.totalFiles ?? report.urls.length))
  setOutput(Outputs.TotalBytes, String(totalBytes(report)))
  setOutput(Outputs.RecordCount, records === undefined ? '' : String(records))
  setOutput(Outputs.ExpiresAt, report.expiresAt?.toISOString() ?? '')
  setOutput(Outputs.Manifest, report.manifestPath ?? '')
  if (report.artifact) {
    setOutput(Outputs.ArtifactName, report.artifactName)
    setOutput(Outputs.ArtifactId, String(report.artifact.id))
    setOutput(Outputs.ArtifactUrl, report.artifact.url ?? '')
    setOutput(Outputs.ArtifactDigest, report.artifact.digest ?? '')
  }
}
