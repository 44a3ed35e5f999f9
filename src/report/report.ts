import type { DownloadedFile, MatchCount, Receipt } from '../domain/model.js'
import type { Window } from '../domain/window.js'
import { formatCount } from '../support/format.js'

/** One result file of this job: from the API's listing to its verified copy on disk. */
export interface ResultEntry {
  /** The signed URL: a credential, for the outputs only, never the log or the summary. */
  url: string
  /** The local name, distinct within the download. */
  name: string
  /** When the URL stops working, where known. */
  expiresAt: Date | undefined
  /** When Datafiniti made the file, where the API says (v3). */
  createdAt: Date | undefined
  /** The verified copy on disk, once downloaded; never in urls mode. */
  local?: DownloadedFile | undefined
}

/** Everything a finished run reports, in outputs and in the job summary. */
export interface RunReport {
  requestId: string
  status: string
  /** False where the delivery target needs no bytes (urls mode): nothing is downloaded. */
  downloads: boolean
  /** This job's result files, in the order the API lists them. */
  results: ResultEntry[]
  downloadPath: string
  /** `datafiniti-manifest.json` in downloadPath, once written (only where files are downloaded). */
  manifestPath: string | undefined
  expiresAt: Date | undefined
  /** What the delivery target made of the files (an artifact), if anything. */
  receipt: Receipt | undefined
  waitedMs: number
  downloadMs: number
  /** Why the download delivered nothing ('if-no-results' warn or ignore); results are then empty. */
  noResults: string | undefined
  /** With `shard`: which share this job took; results are that share only. */
  shard?: ShardReport | undefined
  /** With `since`: the window the created download covers. */
  window?: Window | undefined
  /** What Datafiniti counted and charged, as far as the API says. */
  bill?: Bill | undefined
}

/** What a run learnt and paid, in Datafiniti's own counts (records and credits, not rows). */
export interface Bill {
  /** The matches counted before buying (max-records, dry-run); undefined when not counted. */
  count: MatchCount | undefined
  /** Records the download delivered, as the API counts them: the whole download's, shards together. */
  records: number | undefined
  /** Credits the download cost (v4 `total_cost`). */
  cost: number | undefined
  /** True when every file is JSON lines: one record a line, so the rows are the records. */
  rowsAreRecords: boolean
  /** A dry run: what a real run would buy; nothing was. */
  wouldBuy?: number | undefined
}

export interface ShardReport {
  index: number
  count: number
  /** Result files of the whole download, every shard together. */
  totalFiles: number
}

/** The signed URLs, in API order. */
export function urlsOf(report: RunReport): string[] {
  return report.results.map(result => result.url)
}

/** The verified copies on disk, in API order. */
export function localFiles(report: RunReport): DownloadedFile[] {
  return report.results.flatMap(result => (result.local ? [result.local] : []))
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
  return localFiles(report).reduce((sum, file) => sum + file.bytes, 0)
}

/** Rows the downloaded files hold; undefined when a file's format was unknown, or nothing was downloaded. */
export function totalRows(report: RunReport): number | undefined {
  if (!report.downloads) return undefined
  let sum = 0
  for (const file of localFiles(report)) {
    if (file.records === undefined) return undefined
    sum += file.records
  }
  return sum
}

/**
 * Records delivered: the API's count for the whole download; else (a shard, or no count from the
 * API) the rows, but only of JSON lines, where a row is a record. Never CSV rows, which a view
 * without flattening spreads one record over.
 */
export function recordCount(report: RunReport): number | undefined {
  const bill = report.bill
  if (bill?.records !== undefined && !report.shard) return bill.records
  return bill?.rowsAreRecords ? totalRows(report) : undefined
}

/** Credits this run reports: the download's cost and the count's, where the API gave either. */
export function creditsOf(bill: Bill | undefined): number | undefined {
  const costs = [bill?.cost, bill?.count?.cost].filter(cost => cost !== undefined)
  return costs.length > 0 ? costs.reduce((sum, cost) => sum + cost, 0) : undefined
}
