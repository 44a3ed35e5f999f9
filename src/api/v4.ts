import { isRequestId, type QuerySpec } from '../domain/model.js'
import {
  maskUrls,
  type CallOptions,
  type ClientContext,
  type DatafinitiClient,
  type DownloadState,
  type MatchCount,
  type ResultFile
} from './client.js'
import type { TextResponse } from '../http/transport.js'
import { expiryFromUrl } from './expiry.js'
import {
  downloadState,
  failCreate,
  failForStatus,
  optionalNumber,
  parseJson,
  resultUrl,
  statusRecord,
  wrongShape
} from './response.js'

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

  /**
   * `POST /v4/{type}/search` without `download` is a search: it answers `num_found` (every match)
   * and returns `num_records` records, charged as such (`total_cost`). One record is the least it
   * takes, so the count costs at most one record and creates nothing.
   */
  async countMatches(spec: QuerySpec): Promise<MatchCount> {
    const endpoint = `POST /v4/${spec.dataType}/search`
    const body = JSON.stringify({ query: spec.query, num_records: 1 })
    return this.ctx.call(endpoint, async () => {
      const res = await this.ctx.http.postText(
        `${this.ctx.baseUrl}/v4/${spec.dataType}/search`,
        { ...this.headers(), 'Content-Type': 'application/json' },
        body
      )
      if (res.status < 200 || res.status >= 300) {
        failForStatus(endpoint, res, this.secrets, this.ctx.now())
      }
      const answer = parseJson(endpoint, res, this.secrets)
      const record =
        answer !== null && typeof answer === 'object' && !Array.isArray(answer)
          ? (answer as Record<string, unknown>)
          : {}
      const numFound = optionalNumber(record['num_found'])
      if (numFound === undefined || !Number.isSafeInteger(numFound)) {
        throw wrongShape(endpoint, res.status, 'no "num_found" count', res.text, this.secrets)
      }
      return { numFound, cost: optionalNumber(record['total_cost']) }
    })
  }

  private async download(
    id: string,
    options?: CallOptions
  ): Promise<{ record: Record<string, unknown>; res: TextResponse }> {
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
        return { record, res }
      },
      options
    )
  }

  async getRequest(id: string, options?: CallOptions): Promise<DownloadState> {
    const { record } = await this.download(id, options)
    return downloadState(
      record,
      {
        downloaded: 'num_downloaded',
        requested: 'num_records',
        format: 'format',
        cost: 'total_cost'
      },
      FAILED
    )
  }

  /** `results` fills in while the download runs: it is read only once the download is complete. */
  async getResults(id: string, options?: CallOptions): Promise<ResultFile[] | undefined> {
    const { record, res } = await this.download(id, options)
    const lower = String(record['status']).trim().toLowerCase()
    if (lower !== 'completed') return undefined
    const results = record['results']
    if (!Array.isArray(results)) {
      throw wrongShape(
        `GET /v4/downloads/${id}`,
        res.status,
        'no "results" array',
        res.text,
        this.secrets
      )
    }
    const endpoint = `GET /v4/downloads/${id}`
    const files = results.map((item: unknown, index) => {
      const url = resultUrl(item, index, { endpoint, res, secrets: this.secrets, strings: true })
      return { url, expiresAt: expiryFromUrl(url) }
    })
    maskUrls(files, this.ctx.mask)
    return files
  }
}
