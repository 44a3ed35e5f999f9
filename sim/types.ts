/**
 * The simulator's public types: what tests, the demo and the benchmark script it with, and what it
 * lets them observe.
 */
import type * as http from 'node:http'
import type { Readable } from 'node:stream'

/** A file's content: served in ranges without ever being held whole when generated. */
export interface FileBody {
  size: number
  /** Bytes [start, end) as a stream. */
  stream(start: number, end: number): Readable
  /** Plain MD5 hex for single-part uploads; undefined gives an S3 multipart-style ETag. */
  md5: string | undefined
}

/** One scripted misbehaviour, used once, in order. */
export type Fault =
  | { status: number; body?: string; headers?: Record<string, string> }
  /** Send headers and this many bytes of the body, then destroy the connection. */
  | { destroyAfter: number }
  /** Claim the full Content-Length but end the body cleanly after this many bytes. */
  | { shortAfter: number }
  /** Send this many bytes, then nothing for `ms`. */
  | { stallAfter: number; ms: number }
  /** Read the request, then drop the connection without answering: it reached the server. */
  | { hangUp: true }
  /** Read the request, then reset the connection (a TCP RST: the client sees ECONNRESET). */
  | { reset: true }
  /** No misbehaviour for this request (to aim a later fault at a later request). */
  | { pass: true }
  /** Answer only after this long (a host that keeps the client waiting for headers). */
  | { delay: number }
  /**
   * Answer this error status with `Content-Length: 200`, send a few bytes of the body, then
   * nothing, ever (sim/hostile.ts): an error body that stalls after the head.
   */
  | { stalledError: number }
  /** Answer 302 to this URL (any scheme or host: a hostile or hijacked file host). */
  | { redirect: string }

export interface SimFile {
  name: string
  body: FileBody
  /** As `/v3/results` reports it; defaults to the time the simulator started, v3-style. */
  dateCreated?: string
  /** Misbehaviour of the file host for this file, one per GET. */
  faults?: Fault[]
  /** Send no `Content-Length` (chunked). */
  chunked?: boolean
  /** URLs from the first N `/results` answers are expired (403 `Request has expired`). */
  expiredUrls?: number
  /** An ETag that is not this content's MD5; empty for none at all. */
  etag?: string
  /** Ignore `Range` (answer 200 with the whole body), like a host without range support. */
  noRanges?: boolean
  /** Extra response headers, e.g. `x-amz-server-side-encryption: aws:kms`. */
  headers?: Record<string, string>
  /**
   * The first N answers that carry the file's middle byte carry it flipped, full length and all
   * (a corrupted transfer); Infinity corrupts every one.
   */
  corrupt?: number
  /** Neither `Content-Length` nor chunked: the body ends when the connection closes (HTTP/1.0 style). */
  closeDelimited?: boolean
  /** Answer `Range` even when `If-Range` names another version, like a host without If-Range. */
  ignoreIfRange?: boolean
  /** After this many GETs the object is replaced: a new body (and ETag), as an upload would. */
  changeAfter?: { requests: number; body: FileBody; etag?: string }
  /**
   * Hand the URL out on this origin instead of the file host's (e.g. `http://files.test` or a
   * half-open peer's): read when the URL is signed, so a test may set it once the peer listens.
   */
  origin?: string
  /**
   * How each `/results` answer signs this file's URL, by answer (the last one repeats): S3's
   * `X-Amz-Signature` (default), with temporary credentials' `X-Amz-Security-Token`, CloudFront's
   * `Signature`, or Google Cloud Storage's `X-Goog-Signature`.
   */
  signatureStyles?: SignatureStyle[]
}

export type SignatureStyle = 'amz' | 'amz-token' | 'signature' | 'goog'

export interface SimRequest {
  /** A number for v3; v4 ids are strings (v4 also serves numeric ids as strings). */
  id: number | string
  dataFormat?: 'csv' | 'json'
  numRequested?: number
  /** Credits the download costs (v4 `total_cost`); default one a record. */
  totalCost?: number
  /** Status polls answered STARTED (v4: queued, then running) before COMPLETED. */
  pollsUntilComplete?: number
  /** `/v3/results` answers 404 this many times after completion. */
  resultsNotReady?: number
  /** Set once complete: the request failed with this error. */
  error?: string
  /** Status reported when complete (default COMPLETED; a failed request keeps STARTED's successor). */
  finalStatus?: string
  /** Status reported while not complete (default STARTED; v4 queued, then running). */
  pendingStatus?: string
  files: SimFile[]
  /** `/v3/requests` body as a one-element array (default, as the guides show) or a bare object. */
  shape?: 'array' | 'object'
  statusCase?: 'upper' | 'lower'
  /** Misbehaviour of `/v3/requests/{id}` and `/v3/results/{id}`, one per call. */
  requestFaults?: Fault[]
  resultFaults?: Fault[]
}

/** A record of a query's data set: its date fields are what a `since` window filters on. */
export interface SimRecord {
  id: string
  /** ISO 8601, as Datafiniti writes them (`2016-11-04T23:50:14Z`). */
  dateAdded: string
  dateUpdated: string
  name?: string
}

/** A query the simulator knows: creating a download from it makes a new request. */
export interface SimQuery {
  /** Records that match; 0 answers the API's zero-match error. Ignored where `records` is given. */
  numFound?: number
  /**
   * The data set the query matches, which a test may change between runs: a date range ANDed onto
   * the query (`(q) AND dateUpdated:[2026-11-01 TO *]`) keeps the records inside it, counts and
   * downloads see only those, and the download holds them (one CSV or JSON-lines file, unless
   * `files` says otherwise).
   */
  records?: SimRecord[]
  /**
   * The new download's files, named from its id, for what the create asked: `numRequested` records
   * (the matches, at most `num-records`), in `format`, through `view` (see `flattens` in data.ts).
   */
  files?: (id: string, ask: FileAsk) => SimFile[]
  pollsUntilComplete?: number
  finalStatus?: string
  /** v3 create answers 303 with Location (default) or 200 with the request object. */
  v3Answer?: 'redirect' | 'body'
  /** Misbehaviour of the create call, one per call. */
  createFaults?: Fault[]
  /** Misbehaviour of a v4 count (a search without `download`), one per call. */
  countFaults?: Fault[]
  /** Misbehaviour of the new download's status polls. */
  pollFaults?: Fault[]
}

/** What a download created from a query holds: its files are made to match. */
export interface FileAsk {
  numRequested: number
  format: string
  view: string | undefined
  /** The matching records, where the query has a data set (`records`); else empty. */
  records: SimRecord[]
}

/** A v4 search without `download`: a count (and a preview of records), no download. */
export interface CountCall {
  query: string
  dataType: string
  numRecords: number | undefined
}

export interface CreatedDownload {
  version: 'v3' | 'v4'
  id: string
  dataType: string
  query: string
  format: string
  /** As sent: undefined when the client asked for every match. */
  numRecords: number | undefined
  view: string | undefined
}

export interface SimOptions {
  token: string
  /**
   * Tokens of other accounts the API also takes (matrix legs with a secret each); they share the
   * requests and queries, so a test tells accounts apart by the downloads each creates.
   */
  otherAccounts?: string[]
  requests: SimRequest[]
  /** Queries that create downloads, by query text. Unknown queries match nothing. */
  queries?: Record<string, SimQuery>
  /** The plan's preview record limit: a larger download answers 403. */
  previewLimit?: number
  /** Per-connection bandwidth cap of the file host in bytes per second, like S3. */
  bytesPerSecond?: number
  /** Path prefix of file URLs; v3 examples use the token itself, which the action must never log. */
  filePrefix?: string
  /** Serve HTTPS with this key and certificate: the file host only, unless `roles` says more. */
  tls?: { key: string; cert: string; roles?: readonly ('api' | 'files')[] }
}

export interface LoggedRequest {
  server: 'api' | 'files'
  method: string
  path: string
  headers: http.IncomingHttpHeaders
  status: number
}

export interface Simulator {
  apiUrl: string
  fileOrigin: string
  log: LoggedRequest[]
  /**
   * The most file requests the file host served at once, how many it serves now, and how many
   * connections (TCP, and over HTTPS each a TLS handshake) it has accepted.
   */
  fileConnections: { now: number; max: number; opened: number }
  /** Every create call that reached the server, faulted or not. */
  createCalls: { version: 'v3' | 'v4'; path: string }[]
  /** Downloads created from queries. */
  created: CreatedDownload[]
  /** v4 searches without `download`: counts, which create nothing. */
  counts: CountCall[]
  /** How many times a request's status was polled. */
  polls(id: number | string): number
  stop(): Promise<void>
}
