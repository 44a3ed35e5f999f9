import type { Mode } from '../domain/download.js'
import type { ArtifactResult, DownloadedFile } from '../domain/download.js'

/** Everything a finished run reports, in outputs and in the job summary. */
export interface RunReport {
  requestId: string
  status: string
  mode: Mode
  /** The signed result URLs, in API order. Credentials: outputs only, never the log or summary. */
  urls: string[]
  /** Local names, in the same order as `urls`. */
  names: string[]
  /** When each URL expires, in the same order as `urls`. */
  expiries: (Date | undefined)[]
  /** When Datafiniti made each file, where the API says (v3), in the same order as `urls`. */
  created: (Date | undefined)[]
  /** Empty in urls mode. */
  files: DownloadedFile[]
  downloadPath: string
  /** `datafiniti-manifest.json` in downloadPath, once written (not in urls mode). */
  manifestPath: string | undefined
  expiresAt: Date | undefined
  artifact: ArtifactResult | undefined
  artifactName: string
  waitedMs: number
  downloadMs: number
  /** Why the download delivered nothing ('if-no-results' warn or ignore); urls and files are then empty. */
  noResults: string | undefined
}

export function totalBytes(report: RunReport): number {
  return report.files.reduce((sum, file) => sum + file.bytes, 0)
}

/** Undefined when a file's format was unknown, or in urls mode. */
export function totalRecords(report: RunReport): number | undefined {
  if (report.mode === 'urls') return undefined
  let sum = 0
  for (const file of report.files) {
    if (file.records === undefined) return undefined
    sum += file.records
  }
  return sum
}
