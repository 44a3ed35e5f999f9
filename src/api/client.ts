import type { DownloadState, MatchCount, QuerySpec, ResultFile } from '../domain/model.js'
import type { Http } from '../http/transport.js'
import { urlSecrets } from '../support/secrets.js'

export type { DownloadState, MatchCount, ResultFile }

export interface CallOptions {
  /** Absolute time past which no retry of this call waits. */
  deadline?: number
  /**
   * False for calls that change something at Datafiniti (creating a download): those are retried
   * only when the request provably never reached the server.
   */
  idempotent?: boolean
}

/** One implementation per API version; waiting, downloading and reporting are shared. */
export interface DatafinitiClient {
  /** Creates a download request from a query and returns its id. Never sent twice. */
  createDownload(spec: QuerySpec): Promise<string>
  /**
   * How many records `spec.query` matches, learnt without creating a download (at most one record's
   * cost). Only v4 offers such a call; v3 refuses with the reason.
   */
  countMatches(spec: QuerySpec): Promise<MatchCount>
  getRequest(id: string, options?: CallOptions): Promise<DownloadState>
  /** The result files, or undefined while the API says they do not exist yet (404). */
  getResults(id: string, options?: CallOptions): Promise<ResultFile[] | undefined>
}

/** Runs one API call with the retry policy; `what` names it in retry log lines. */
export type CallRunner = <T>(
  what: string,
  fn: () => Promise<T>,
  options?: CallOptions
) => Promise<T>

/** What every client is built from. */
export interface ClientContext {
  http: Http
  /** Base URL without a trailing slash. */
  baseUrl: string
  token: string
  call: CallRunner
  now: () => number
  /**
   * Masks a credential in the log (runner.setSecret): every URL the API hands out, first list or
   * refreshed, is masked the moment it arrives, before anything could print it.
   */
  mask?: (secret: string) => void
}

/** Masks each URL of a result list in every form it could be printed (secrets.ts urlSecrets). */
export function maskUrls(
  files: readonly ResultFile[],
  mask: ((secret: string) => void) | undefined
): void {
  if (!mask) return
  for (const file of files) for (const secret of urlSecrets(file.url)) mask(secret)
}
