/**
 * An incremental window: which records a download created from a query is limited to, by a date
 * field of the records, and the mark a successful `since: last-success` run leaves for the next.
 */

/** The `since` input, parsed. */
export type Since =
  | { kind: 'last-success' }
  /** That long before the run starts. */
  | { kind: 'ago'; ms: number }
  /** From this moment on. */
  | { kind: 'date'; from: Date }

export interface WindowSpec {
  since: Since
  /** The record date field the window filters on, e.g. `dateUpdated`. */
  field: string
  /** With `last-success`: whose mark it is (workflow, job, step, query inputs, token fingerprint). */
  scope: MarkScope | undefined
}

export interface MarkScope {
  /** The store name: `datafiniti-mark-<hash>`, the same for every run of the same scope. */
  name: string
  /** A hash of the query inputs, kept in the mark so a mark is never applied to another query. */
  queryHash: string
  /** This run and attempt, to keep each saved mark apart. */
  runId: string
  runAttempt: string
}

/** The window a created download covers, as the manifest records it. */
export interface Window {
  field: string
  /** The bound the query used: the start of the UTC day of the moment asked for. */
  from: Date
  /** When the download was asked for: what the next `last-success` run starts from. */
  to: Date
}

/** What a successful `last-success` run leaves for the next one. */
export interface Mark {
  version: 1
  /** When this run created its download (ISO 8601). */
  createdAt: string
  field: string
  queryHash: string
  runId: string
  requestId: string
}
