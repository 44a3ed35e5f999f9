import type { Mode } from '../domain/model.js'
import { formatCount } from '../support/format.js'
import type { ArtifactResult, DownloadedFile } from '../domain/model.js'

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
  /** With `shard`: which share this job took; urls, names, expiries and files are that share only. */
  shard?: ShardReport | undefined
}

export interface ShardReport {
  index: number
  count: number
  /** Result files of the whole download, every shard together. */
  totalFiles: number
}

/** `shard 2 of 8`, as the log and the summary say it. */
export function describeShard(shard: ShardReport): string {
  return `shard ${shard.index} of ${shard.count}`
}

export function shardLine(shard: ShardReport, files: number): string {
  const line = `This job is ${describeShard(shard)}: ${formatCount(files)} of the download's ${formatCount(shard.totalFiles)} result file(s)`
  return files > 0
    ? line
    : `${line}. A shard count of at most ${formatCount(shard.totalFiles)} keeps every job busy.`
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
