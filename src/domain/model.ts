/**
 * What every stage agrees on about a Datafiniti download: the request, its state, its files. Both
 * the inputs and the API client import these; neither imports the other.
 */

export const Modes = ['artifact', 'files', 'urls'] as const
export type Mode = (typeof Modes)[number]

export const ApiVersions = ['v3', 'v4'] as const
export type ApiVersion = (typeof ApiVersions)[number]

/** Data types a download can be created for; `people` exists in v4 only. */
export const DataTypes = {
  v3: ['products', 'businesses', 'properties'],
  v4: ['products', 'businesses', 'properties', 'people']
} as const
export type DataType = (typeof DataTypes)['v4'][number]

export const Formats = ['CSV', 'JSON'] as const
export type Format = (typeof Formats)[number]

/** How a result file's records are counted. */
export type RecordFormat = 'csv' | 'json'

/** Result files expire this long after their `date_created`. */
export const RESULT_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000

/** What to create when the action makes the download itself. */
export interface QuerySpec {
  query: string
  dataType: DataType
  format: Format
  /** `all` says on purpose that every match may be downloaded (and charged). */
  numRecords: number | 'all'
  view: string | undefined
}

/**
 * An id as it may appear in a file, directory or artifact name (v4 ids are opaque strings): a
 * Windows device name (`CON`, `nul.x`) gets a `_` in front, as a file name does (file-names.ts).
 */
export function idForName(requestId: string): string {
  const name = requestId.replace(/[^A-Za-z0-9._-]/g, '_')
  if (/^\.*$/.test(name)) return name.replace(/\./g, '_')
  return isWindowsDeviceName(name) ? `_${name}` : name
}

/** The form of a request id: what the input accepts and what a created id must have. */
export function isRequestId(id: string, version: ApiVersion): boolean {
  return version === 'v3'
    ? /^\d+$/.test(id) && !/^0+$/.test(id)
    : /^[A-Za-z0-9._~-]{1,200}$/.test(id) && !/^\.+$/.test(id)
}

/** What the action needs to know about a download request, whatever the API version. */
export interface DownloadState {
  /** The status as the API reported it, e.g. `COMPLETED`, made one line and safe to log. */
  status: string
  phase: 'pending' | 'completed' | 'failed'
  /** The API's error text, for a failed request. */
  error: string
  /** Records delivered, as Datafiniti counts (and charges) them: not the rows of a CSV file. */
  numDownloaded: number | undefined
  numRequested: number | undefined
  /** Credits the download cost, where the API says (v4 `total_cost`). */
  totalCost?: number | undefined
  /** `csv` or `json` when the API says. */
  format: RecordFormat | undefined
}

/** What a query matches, learnt before buying, and what learning it cost. */
export interface MatchCount {
  /** Records the query matches: what a download of every match would buy. */
  numFound: number
  /** Credits the count itself cost, where the API says (v4 `total_cost`: at most one record). */
  cost: number | undefined
}

export interface ResultFile {
  url: string
  /** When the file's URL stops working (v3: `date_created` + 7 days; v4: the URL's own expiry). */
  expiresAt: Date | undefined
  /**
   * When Datafiniti made the file: v3's `date_created`. Undefined for v4, whose answer has no such
   * time (a URL's `X-Amz-Date` is when that URL was signed, which need not be when the file was made).
   */
  createdAt?: Date | undefined
}

/** A file to download: where from, under which local name, and how to count its records. */
export interface PlannedFile {
  url: string
  /** Safe local file name, distinct within the download. */
  name: string
  format: RecordFormat | undefined
}

/**
 * What a file's bytes were checked against: the MD5 its ETag stands for, the length the host
 * announced, or nothing the host offered.
 */
export type IntegrityCheck = 'md5' | 'length' | 'none'

/** A file as it was when it was written and verified: enough to know it again. */
export interface VerifiedCopy {
  bytes: number
  etag: string | undefined
  sha256: string
  integrity: IntegrityCheck
}

/** A file complete and verified on disk. */
export interface DownloadedFile {
  name: string
  path: string
  bytes: number
  /** Undefined when the format is unknown. */
  records: number | undefined
  /** Of the bytes on disk, for the next job to check its copy against. */
  sha256: string
  integrity: IntegrityCheck
  etag: string | undefined
  /** True when a complete, verified copy was already on disk and nothing was downloaded. */
  reused?: boolean
}

/**
 * What a delivery target made of the files (an artifact, say), for the outputs and the job summary:
 * the report shows it without knowing which target made it.
 */
export interface Receipt {
  /** What the summary calls it: `Artifact`. */
  kind: string
  name: string
  url: string | undefined
  /** What the summary says after the name, e.g. `id 42, 1.2 MiB zipped`. */
  details: string
  /** The outputs this target sets, by output name. */
  outputs: Record<string, string>
}

/** The manifest's file name in the download directory; no result file may take it. */
export const MANIFEST_NAME = 'datafiniti-manifest.json'

/** What a COMPLETED download with no results (no files, or files without records) does. */
export const NoResultsActions = ['warn', 'error', 'ignore'] as const
export type NoResultsAction = (typeof NoResultsActions)[number]

/**
 * One of `count` matrix jobs that share a download: shard `index` (1-based) takes the result files
 * at positions i (0-based, in the order the API lists them) with i mod count = index - 1.
 */
export interface Shard {
  index: number
  count: number
}

/** The most shards a download can be split into (a matrix allows 256 jobs). */
export const MAX_SHARDS = 256

/** The items of a list that fall to `shard`, in order; all of them without a shard. */
export function shardOf<T>(items: readonly T[], shard: Shard | undefined): T[] {
  return items.filter((_, i) => shard === undefined || i % shard.count === shard.index - 1)
}

// Device names Windows reserves in every directory, whatever the case and whatever follows the
// first dot (`nul.tar.gz` is NUL too); superscript digits count as digits there.
const WINDOWS_DEVICE = /^(?:con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³]|conin\$|conout\$)\s*(?:\.|$)/i

/** A name Windows takes for a device wherever it is used: a file or directory must not have it. */
export function isWindowsDeviceName(name: string): boolean {
  return WINDOWS_DEVICE.test(name)
}
