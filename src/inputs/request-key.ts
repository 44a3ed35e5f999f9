import type { Env } from '../domain/action-io.js'
import { createHash, createHmac } from 'node:crypto'
import type { ApiVersion, QuerySpec } from '../domain/model.js'
import { InputError, quote, read } from './read.js'

/** Every input that decides what a download buys: the same values, the same records. */
export function purchaseInputs(
  query: QuerySpec,
  apiVersion: ApiVersion,
  apiUrl: string
): Record<string, string | number> {
  return {
    apiVersion,
    apiUrl,
    query: query.query,
    dataType: query.dataType,
    format: query.format,
    numRecords: query.numRecords,
    view: query.view ?? ''
  }
}

/**
 * The key under which a created download is remembered for later attempts of the same run: the
 * run id and job, then a hash of the step and of every input that decides what is bought. A new
 * attempt of the run has the same key (GITHUB_RUN_ATTEMPT is left out on purpose); another run,
 * step, or query has another. The token goes in only as a fingerprint that cannot give it back
 * (tokenFingerprint), so that matrix legs with the same query and different tokens (accounts)
 * recall their own download: a key is visible to anyone who can list the repository's caches.
 */
export function requestKey(
  env: Env,
  query: QuerySpec | undefined,
  apiVersion: ApiVersion,
  apiUrl: string,
  token: string
): string | undefined {
  const runId = env['GITHUB_RUN_ID']
  if (!query || !runId) return undefined
  const job = env['GITHUB_JOB'] ?? ''
  const identity = JSON.stringify({
    // The step's id, or the runner's name for it (`__owner_repo`, `__owner_repo_2`, ...).
    step: env['GITHUB_ACTION'] ?? '',
    action: env['GITHUB_ACTION_REPOSITORY'] ?? '',
    ...purchaseInputs(query, apiVersion, apiUrl),
    account: tokenFingerprint(token, runId)
  })
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 32)
  // Cache keys hold no commas and at most 512 characters.
  const safe = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)
  return `datafiniti-request-${safe(runId)}-${safe(job)}-${hash}`
}

/**
 * 64 bits of an HMAC-SHA256 of the token keyed by the run id: enough to tell accounts apart, too
 * few to test a guess against offline for long, and tied to one run (the same token gives another
 * fingerprint in every run). It then goes through the key's own hash, so the key shows only that.
 */
function tokenFingerprint(token: string, runId: string): string {
  return createHmac('sha256', `datafiniti-request-key:${runId}`)
    .update(token)
    .digest('hex')
    .slice(0, 16)
}

/** A true/false input. */
export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)
  const value = raw.toLowerCase()
  if (value === '') return fallback
  if (value === 'true') return true
  if (value === 'false') return false
  throw new InputError(`Input '${name}' must be true or false; got ${quote(raw)}.`)
}
