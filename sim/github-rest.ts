/**
 * The part of the GitHub REST API that reads workflow artifacts across runs, as `github.token`
 * (or any token) sees it: `GET /repos/{owner}/{repo}/actions/artifacts` (by name, newest first,
 * `expired` set once past the retention) and `GET .../actions/artifacts/{id}/zip`, which answers 302
 * to a short-lived blob URL. A token without `actions: read` gets 403, an unknown one 401.
 */
import type * as http from 'node:http'

export type TokenAccess = 'actions-read' | 'none'

export interface RestArtifact {
  id: number
  name: string
  size: number
  /** GITHUB_RUN_ID of the run that uploaded it. */
  runId: string
  createdAt: string
  expiresAt: string
  blobName: string
}

export interface RestContext {
  repository: string
  tokens: Map<string, TokenAccess>
  /** Every finalized artifact of every run. */
  artifacts(): RestArtifact[]
  /** The service's clock: what has expired. */
  now(): number
  signBlob(blobName: string): string
  /** Every REST call, as `GET /path`. */
  calls: string[]
}

export function handleRest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  context: RestContext
): void {
  const url = new URL(req.url ?? '/', 'http://api')
  context.calls.push(`${req.method ?? ''} ${url.pathname}${url.search}`)
  const reply = (status: number, body: object, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }
  const token = /^(?:Bearer|token) (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? ''
  const access = context.tokens.get(token)
  if (access === undefined) {
    reply(401, { message: 'Bad credentials', status: '401' })
    return
  }
  const prefix = `/repos/${context.repository}/actions/artifacts`
  if (req.method !== 'GET' || !url.pathname.startsWith(prefix)) {
    reply(404, { message: 'Not Found', status: '404' })
    return
  }
  if (access !== 'actions-read') {
    reply(403, { message: 'Resource not accessible by integration', status: '403' })
    return
  }
  const now = context.now()
  const rest = url.pathname.slice(prefix.length)
  if (rest === '' || rest === '/') {
    const name = url.searchParams.get('name')
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30) || 30)
    const listed = context
      .artifacts()
      .filter(a => name === null || a.name === name)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id)
    reply(200, {
      total_count: listed.length,
      artifacts: listed.slice(0, perPage).map(a => ({
        id: a.id,
        name: a.name,
        size_in_bytes: a.size,
        expired: Date.parse(a.expiresAt) <= now,
        created_at: a.createdAt,
        expires_at: a.expiresAt,
        workflow_run: { id: Number(a.runId) }
      }))
    })
    return
  }
  const zip = /^\/(\d+)\/zip$/.exec(rest)
  const artifact = zip ? context.artifacts().find(a => a.id === Number(zip[1])) : undefined
  if (!artifact) {
    reply(404, { message: 'Not Found', status: '404' })
    return
  }
  if (Date.parse(artifact.expiresAt) <= now) {
    reply(410, { message: 'Artifact has expired', status: '410' })
    return
  }
  reply(302, {}, { Location: context.signBlob(artifact.blobName) })
}
