import type { QuerySpec } from '../domain/download.js'

/** What the action needs to know about a download request, whatever the API version. */
export interface DownloadState {
  /** The status exactly as the API reported it, e.g. `COMPLETED`. */
  status: string
  phase: 'pending' | 'completed' | 'failed'
  /** The API's error text, for a failed request. */
  error: string
  numDownloaded: number | undefined
  numRequested: number | undefined
  /** `csv` or `json` when the API says. */
  format: 'csv' | 'json' | undefined
}

export interface ResultFile {
  url: string
  /** When the file's URL stops working (v3: `date_created` + 7 days; v4: the URL's own expiry). */
  expiresAt: Date | undefined
}

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
  getRequest(id: string, options?: CallOptions): Promise<DownloadState>
  /** The result files, or undefined while the API says they do not exist yet (404). */
  getResults(id: string, options?: CallOptions): Promise<ResultFile[] | undefined>
}
