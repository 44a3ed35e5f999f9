import { isRequestId, type QuerySpec } from '../domain/download.js'
import type {
  CallOptions,
  ClientContext,
  DatafinitiClient,
  DownloadState,
  ResultFile
} from './client.js'
import {
  errorText,
  expiryFromUrl,
  failCreate,
  optionalNumber,
  parseJson,
  statusRecord,
  wrongShape
} from './response.js'

const PENDING = new Set(['queued', 'running', 'in_progress', 'started', 'pending'])
const FAILED = new Set(['cancelled', 'canceled', 'failed', 'error'])

/** Datafiniti API v4: Bearer token; a download's status and its file URLs share one endpoint. */
export class V4Client implements DatafinitiClient {
  private readonly secrets: string[]

  constructor(private readonly ctx: ClientContext) {
    this.secrets = [ctx.token]
  }

  /** A fresh object per request: the HTTP client may edit it (it drops auth on a redirect). */
  private headers(): Record<string, string> {
    return { Authorization: `Bearer ${this.ctx.token}`, Accept: 'application/json' }
  }

  /** `POST /v4/{type}/search` with `download: true` answers 2xx with the new download. */
  async createDownload(spec: QuerySpec): Promise<string> {
    const endpoint = `POST /v4/${spec.dataType}/search`
    const body: Record<string, unknown> = { query: spec.query, format: spec.format, download: true }
    // No `num_records` means every match: only when the user said `all`.
    if (spec.numRecords !== 'all') body['num_records'] = spec.numRecords
    if (spec.view) body['view'] = spec.view
    return this.ctx.call(
      endpoint,
      async () => {
        const res = await this.ctx.http.postText(
          `${this.ctx.baseUrl}/v4/${spec.dataType}/search`,
          { ...this.headers(), 'Content-Type': 'application/json' },
          JSON.stringify(body)
        )
        if (res.status < 200 || res.status >= 300) failCreate(endpoint, res, this.secrets)
        const answer = parseJson(endpoint, res, this.secrets)
        const raw =
          answer !== null && typeof answer === 'object'
            ? (answer as Record<string, unknown>)['id']
            : undefined
        const id = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim() : ''
        // The id becomes a URL path segment and a directory name: only a well-formed one will do.
        if (!isRequestId(id, 'v4')) {
          throw wrongShape(
            endpoint,
            res.status,
            'no well-formed download "id"',
            res.text,
            this.secrets
          )
        }
        return id
      },
      { idempotent: false }
    )
  }

  private async download(
    id: string,
    options?: CallOptions
  ): Promise<{ record: Record<string, unknown>; text: string; status: number }> {
    const endpoint = `GET /v4/downloads/${id}`
    return this.ctx.call(
      endpoint,
      async () => {
        const res = await this.ctx.http.getText(
          `${this.ctx.baseUrl}/v4/downloads/${encodeURIComponent(id)}`,
          this.headers()
        )
        const record = statusRecord(
          endpoint,
          res,
          {
            notFound: `Datafiniti has no download ${id} for this token`,
            shape: 'expected a download object'
          },
          this.secrets,
          this.ctx.now()
        )
        return { record, text: res.text, status: res.status }
      },
      options
    )
  }

  async getRequest(id: string, options?: CallOptions): Promise<DownloadState> {
    const { record } = await this.download(id, options)
    const status = String(record['status']).trim()
    const lower = status.toLowerCase()
    const error = errorText(record['error'])
    const format = typeof record['format'] === 'string' ? record['format'].toLowerCase() : ''
    return {
      status,
      // Unknown statuses are taken as still running: only `completed` is done.
      phase:
        FAILED.has(lower) || error !== ''
          ? 'failed'
          : lower === 'completed'
            ? 'completed'
            : 'pending',
      error,
      numDownloaded: optionalNumber(record['num_downloaded']),
      numRequested: optionalNumber(record['num_records']),
      format: format === 'csv' || format === 'json' ? format : undefined
    }
  }

  /** `results` fills in while the download runs: it is read only once the download is complete. */
  async getResults(id: string, options?: CallOptions): Promise<ResultFile[] | undefined> {
    const { record, text, status } = await this.download(id, options)
    const lower = String(record['status']).trim().toLowerCase()
    if (lower !== 'completed' || PENDING.has(lower)) return undefined
    const results = record['results']
    if (!Array.isArray(results)) {
      throw wrongShape(`GET /v4/downloads/${id}`, status, 'no "results" array', text, this.secrets)
    }
    return results.map((item: unknown, index) => {
      const url =
        typeof item === 'string'
          ? item
          : item !== null && typeof item === 'object'
            ? (item as Record<string, unknown>)['url']
            : undefined
      if (typeof url !== 'string' || !/^https?:\/\//i.test(url) || !URL.canParse(url)) {
        throw wrongShape(
          `GET /v4/downloads/${id}`,
          status,
          `result ${index + 1} is not an http(s) URL`,
          text,
          this.secrets
        )
      }
      return { url, expiresAt: expiryFromUrl(url) }
    })
  }
}
