import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import {
  MANIFEST_NAME,
  type ApiVersion,
  type DownloadedFile,
  type IntegrityCheck,
  type QuerySpec,
  type VerifiedCopy
} from '../domain/model.js'
import { onDisk } from '../support/errors.js'
import { creditsOf, localFiles, recordCount, totalRows, type RunReport } from './report.js'

/** The manifest's shape; readers of earlier versions' files are listed in `READABLE`. */
export const MANIFEST_VERSION = 2
const READABLE: readonly number[] = [1, MANIFEST_VERSION]

/**
 * `datafiniti-manifest.json`, written beside the files (so it travels in the artifact): what the
 * next job needs to trust and read them without long outputs. Never a URL: signed URLs are
 * credentials. docs/manifest.md documents the schema; bump `version` when it changes shape.
 */
export interface Manifest {
  version: typeof MANIFEST_VERSION
  requestId: string
  apiVersion: ApiVersion
  query: QuerySpec | null
  status: string
  /** When the manifest was written (ISO 8601). */
  writtenAt: string
  /** When Datafiniti made the earliest file (v3 `date_created`); null where the API does not say (v4). */
  createdAt: string | null
  /** The earliest expiry of the result files' URLs, if known. */
  expiresAt: string | null
  /**
   * `records` as Datafiniti counts (and charges) them, null where it cannot be known (a shard of a
   * CSV download); `rows` as the files hold them; `credits` as the API charged, where it says.
   */
  totals: {
    files: number
    bytes: number
    records: number | null
    rows: number | null
    credits: number | null
  }
  /** Matches counted before buying (`max-records`), null when not counted. */
  numFound: number | null
  files: ManifestFile[]
  /** With `shard`: this job's share; `files` and `totals` describe that share only. */
  shard: { index: number; count: number; totalFiles: number } | null
  /** With `since`: records whose `field` is on or after `from`, as asked for at `to` (ISO 8601). */
  window: { field: string; from: string; to: string } | null
}

export interface ManifestFile {
  name: string
  bytes: number
  /** CSV data rows or JSON lines: a record may span several CSV rows. */
  rows: number | null
  sha256: string
  etag: string | null
  /** What the bytes were checked against when they were written. */
  integrity: IntegrityCheck
  createdAt: string | null
  expiresAt: string | null
}

export function manifestFor(
  report: RunReport,
  context: { apiVersion: ApiVersion; query: QuerySpec | undefined; now: number }
): Manifest {
  const files = localFiles(report)
  return {
    version: MANIFEST_VERSION,
    requestId: report.requestId,
    apiVersion: context.apiVersion,
    query: context.query ?? null,
    status: report.status,
    writtenAt: new Date(context.now).toISOString(),
    createdAt: earliest(report.results.map(result => result.createdAt))?.toISOString() ?? null,
    expiresAt: report.expiresAt?.toISOString() ?? null,
    totals: {
      files: files.length,
      bytes: files.reduce((sum, f) => sum + f.bytes, 0),
      records: recordCount(report) ?? null,
      rows: totalRows(report) ?? null,
      credits: creditsOf(report.bill) ?? null
    },
    numFound: report.bill?.count?.numFound ?? null,
    files: report.results.flatMap(({ local: file, createdAt, expiresAt }) =>
      file ? [manifestEntry(file, createdAt, expiresAt)] : []
    ),
    shard: report.shard ?? null,
    window: report.window
      ? {
          field: report.window.field,
          from: report.window.from.toISOString(),
          to: report.window.to.toISOString()
        }
      : null
  }
}

function manifestEntry(
  file: DownloadedFile,
  createdAt: Date | undefined,
  expiresAt: Date | undefined
): ManifestFile {
  return {
    name: file.name,
    bytes: file.bytes,
    rows: file.records ?? null,
    sha256: file.sha256,
    etag: file.etag ?? null,
    integrity: file.integrity,
    createdAt: createdAt?.toISOString() ?? null,
    expiresAt: expiresAt?.toISOString() ?? null
  }
}

function earliest(dates: readonly (Date | undefined)[]): Date | undefined {
  const times = dates.flatMap(date => (date ? [date.getTime()] : []))
  return times.length > 0 ? new Date(Math.min(...times)) : undefined
}

/** Writes the manifest whole or not at all (a rename), and returns its path. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<string> {
  const target = path.join(dir, manifestName(manifest.shard))
  const part = `${target}.part`
  // As a data file's: whatever is there (a symlink planted to redirect the write) goes first, and
  // the open is exclusive, so a link made in between is refused rather than followed.
  await onDisk(() => rm(part, { force: true }))
  await onDisk(() => writeFile(part, `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' }))
  await onDisk(() => rename(part, target))
  return target
}

/**
 * A shard's manifest has a name of its own: a merge job that unpacks every shard's artifact into
 * one directory keeps them all, instead of one that describes a single shard.
 */
export function manifestName(shard: Manifest['shard']): string {
  return shard
    ? MANIFEST_NAME.replace(/\.json$/, `-shard-${shard.index}-of-${shard.count}.json`)
    : MANIFEST_NAME
}

/**
 * The manifest an earlier run (of the same shard, if any) left in `dir`, or undefined when there is
 * none or it is unreadable.
 */
export async function readManifest(
  dir: string,
  shard: Manifest['shard'] = null
): Promise<Manifest | undefined> {
  try {
    const text = await readFile(path.join(dir, manifestName(shard)), 'utf8')
    const parsed = JSON.parse(text) as unknown
    if (parsed === null || typeof parsed !== 'object') return undefined
    const manifest = parsed as Partial<Manifest>
    // An earlier version's files carry everything a re-run checks (name, bytes, sha256, etag).
    return READABLE.includes(Number(manifest.version)) && Array.isArray(manifest.files)
      ? (manifest as Manifest)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * What an earlier run's manifest in `dir` says it verified, by file name: for a re-run to decide
 * whether a local copy is still that file. Entries that are not well formed are left out (their
 * files are downloaded again).
 */
export async function verifiedEarlier(
  dir: string,
  shard: Manifest['shard'] = null
): Promise<Map<string, VerifiedCopy>> {
  const records = new Map<string, VerifiedCopy>()
  for (const entry of (await readManifest(dir, shard))?.files ?? []) {
    // Read from disk: any shape at all until checked.
    const file = entry as Partial<Record<keyof ManifestFile, unknown>>
    if (
      typeof file.name === 'string' &&
      typeof file.bytes === 'number' &&
      typeof file.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(file.sha256) &&
      (typeof file.etag === 'string' || file.etag === null) &&
      typeof file.integrity === 'string'
    ) {
      records.set(file.name, {
        bytes: file.bytes,
        etag: file.etag ?? undefined,
        sha256: file.sha256,
        integrity: file.integrity as IntegrityCheck
      })
    }
  }
  return records
}
