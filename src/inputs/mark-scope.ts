import type { Env } from '../domain/action-io.js'
import { createHash, createHmac } from 'node:crypto'
import type { ApiVersion, QuerySpec } from '../domain/model.js'
import type { MarkScope } from '../domain/window.js'
import { purchaseInputs } from './request-key.js'

export interface ScopeInputs {
  query: QuerySpec
  apiVersion: ApiVersion
  apiUrl: string
  field: string
  token: string
}

/**
 * Whose `last-success` mark a run reads and leaves: the same workflow on the same branch, job,
 * step and query inputs, and the same Datafiniti account. The account is told apart by a
 * fingerprint of the token (an HMAC keyed by the rest of the scope, truncated), which cannot give
 * the token back: the name is visible to anyone who can list the repository's caches and artifacts.
 */
export function markScope(env: Env, inputs: ScopeInputs): MarkScope {
  const { query, apiVersion, apiUrl, field, token } = inputs
  const queryInputs = { ...purchaseInputs(query, apiVersion, apiUrl), field }
  const identity = JSON.stringify({
    repository: env['GITHUB_REPOSITORY'] ?? '',
    // `owner/repo/.github/workflows/x.yml@refs/heads/main`: the file and the branch that ran it,
    // so a run by hand on another branch never moves the schedule's mark (as cache entries, which
    // are per branch, never do).
    workflow: env['GITHUB_WORKFLOW_REF'] || (env['GITHUB_WORKFLOW'] ?? ''),
    ref: env['GITHUB_WORKFLOW_REF'] ? '' : (env['GITHUB_REF'] ?? ''),
    job: env['GITHUB_JOB'] ?? '',
    step: env['GITHUB_ACTION'] ?? '',
    ...queryInputs
  })
  const fingerprint = createHmac('sha256', identity).update(token).digest('hex').slice(0, 16)
  const hash = createHash('sha256').update(`${identity}\n${fingerprint}`).digest('hex')
  return {
    name: `datafiniti-mark-${hash.slice(0, 32)}`,
    queryHash: createHash('sha256').update(JSON.stringify(queryInputs)).digest('hex').slice(0, 16),
    runId: env['GITHUB_RUN_ID'] ?? '',
    runAttempt: env['GITHUB_RUN_ATTEMPT'] ?? '1'
  }
}
