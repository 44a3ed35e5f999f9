import {
  maskUrls,
  type CallOptions,
  type ClientContext,
  type DatafinitiClient,
  type DownloadState,
  type MatchCount,
  type ResultFile
} from './client.js'
import type { QuerySpec } from '../domain/model.js'
import { Inputs } from '../domain/action-io.js'
import { FatalError } from '../support/errors.js'
import { expiryFromCreated, expiryFromUrl, parseApiDate } from './expiry.js'
import {
  downloadState,
  failCreate,
  failForStatus,
  parseJson,
  resultUrl,
  statusRecord,
  wrongShape
} from './response.js'

const FAILED_STATUSES = new Set(['failed', 'error', 'cancelled', 'canceled'])

/** Datafiniti API v3: HTTP Basic with the token as user name and an empty password. */
export class V3Client implements DatafinitiClient {
  private readonly auth: string
  private readonly secrets: string[]

  constructor(private readonly ctx: ClientContext) {
    const basic = Buffer.from(`${ctx.token}:`).toString('base64')
    this.auth = `Basic ${basic}`
    this.secrets = [ctx.token, basic]
  }

  /** A fresh object per request: the HTTP client may edit it (it drops auth on a redirect). */
  private headers(): Record<string, string> {
    return { Authorization: this.auth, Accept: 'application/json' }
  }

  /**
   * `GET /v3/data/{type}?...&download=true` answers 303 with `Location: /v3/requests/{id}` (some
   * guides show the request object in the body instead): the redirect is the answer, not followed.
   */
  async createDownload(spec: QuerySpec): Promise<string> {
    const endpoint = `GET /v3/data/${spec.dataType}`
    const params = new URLSearchParams({ q: spec.query, format: spec.format })
    // Without `records` Datafiniti downloads every match: only when the user said `all`.
    if (spec.numRecords !== 'all') params.set('records', String(spec.numRecords))
    if (spec.view) params.set('view', spec.view)
    params.set('download', 'true')
    const url = `${this.ctx.baseUrl}/v3/data/${spec.dataType}?${params.toString()}`
    return this.ctx.call(
      endpoint,
      async () => {
        const res = await this.ctx.http.getText(url, this.headers(), undefined, false)
        if (res.status >= 300 && res.status < 400) {
          const location = res.headers.location ?? ''
          const id = /\/v3\/requests\/(\d+)/.exec(location)?.[1]
          if (!id) {
            throw wrongShape(
              endpoint,
              res.status,
              'a redirect without /v3/requests/{id}',
              location,
              this.secrets
            )
          }
          return id
        }
        if (res.status < 200 || res.status >= 300) failCreate(endpoint, res, this.secrets)
        const body = parseJson(endpoint, res, this.secrets)
        const item = Array.isArray(body) ? (body as unknown[])[0] : body
        const id =
          item !== null && typeof item === 'object'
            ? (item as Record<string, unknown>)['id']
            : undefined
        if ((typeof id !== 'number' && typeof id !== 'string') || !/^\d+$/.test(String(id))) {
          throw wrongShape(endpoint, res.status, 'no numeric request "id"', res.text, this.secrets)
        }
        return String(id)
      },
      { idempotent: false }
    )
  }

  /**
   * v3 documents no count that does not buy: a request object's `numFound` exists only once the
   * download is created (and charged). Refused before any request, rather than guessed.
   */
  countMatches(spec: QuerySpec): Promise<MatchCount> {
    return Promise.reject(
      new FatalError(
        `API v3 cannot count the records a query matches without creating (and paying for) a download ` +
          `of ${spec.dataType}: '${Inputs.MaxRecords}' and '${Inputs.DryRun}' need '${Inputs.ApiVersion}: v4'.`
      )
    )
  }

  async getRequest(id: string, options?: CallOptions): Promise<DownloadState> {
    const endpoint = `GET /v3/requests/${id}`
    return this.ctx.call(
      endpoint,
      async () => {
        const res = await this.ctx.http.getText(
          `${this.ctx.baseUrl}/v3/requests/${encodeURIComponent(id)}`,
          this.headers()
        )
        const record = statusRecord(
          endpoint,
          res,
          {
            notFound: `Datafiniti has no download request ${id} for this token`,
            shape: 'expected a request object or a one-element array'
          },
          this.secrets,
          this.ctx.now()
        )
        return downloadState(
          record,
          { downloaded: 'numDownloaded', requested: 'numRequested', format: 'dataFormat' },
          FAILED_STATUSES
        )
      },
      options
    )
  }

  async getResults(id: string, options?: CallOptions): Promise<ResultFile[] | undefined> {
    const endpoint = `GET /v3/results/${id}`
    return this.ctx.call(
      endpoint,
      async () => {
        const res = await this.ctx.http.getText(
          `${this.ctx.baseUrl}/v3/results/${encodeURIComponent(id)}`,
          this.headers()
        )
        // Documented: results do not exist until the request is COMPLETED; right after it, not yet.
        if (res.status === 404) return undefined
        if (res.status !== 200) failForStatus(endpoint, res, this.secrets, this.ctx.now())
        const body = parseJson(endpoint, res, this.secrets)
        const items = Array.isArray(body) ? (body as unknown[]) : [body]
        const files = items.map((item, index) => {
          const url = resultUrl(item, index, {
            endpoint,
            res,
            secrets: this.secrets,
            strings: false
          })
          const created = (item as Record<string, unknown>)['date_created']
          return {
            url,
            expiresAt: expiryFromCreated(created) ?? expiryFromUrl(url),
            createdAt: parseApiDate(created)
          }
        })
        maskUrls(files, this.ctx.mask)
        return files
      },
      options
    )
  }
}
