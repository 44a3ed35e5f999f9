import * as path from 'node:path'
import {
  ApiVersions,
  Modes,
  idForName,
  NoResultsActions,
  type ApiVersion,
  type NoResultsAction,
  type Mode,
  type QuerySpec,
  type Shard
} from '../domain/model.js'
import { Inputs, type Env } from '../domain/action-io.js'
import { parseBudget, type Budget } from './budget.js'
import { parseDirectDownloads, parseRetention } from './environment.js'
import { Defaults, Limits } from './defaults.js'
import { parseFormat, parseQuery, parseRequestId } from './query.js'
import { boolean, requestKey } from './request-key.js'
import { parseShard } from './shard.js'
import { parseWindow } from './since.js'
import type { WindowSpec } from '../domain/window.js'
import { InputError, duration, integer, quote, read } from './read.js'

export interface Settings extends Budget {
  token: string
  apiVersion: ApiVersion
  /** The download to fetch; undefined when `query` creates one. */
  requestId: string | undefined
  query: QuerySpec | undefined
  /** Base URL without a trailing slash; the client appends `/v3/...` or `/v4/...`. */
  apiUrl: string
  mode: Mode
  /** GITHUB_WORKSPACE, or the working directory outside a runner. */
  workspace: string
  /** The `path` input; empty for the default `datafiniti/<request-id>`. */
  path: string
  /** The `artifact-name` input; empty for the default `datafiniti-<request-id>`. */
  artifactName: string
  retentionDays: number | undefined
  compressionLevel: number
  pollIntervalMs: number
  waitTimeoutMs: number
  concurrency: number
  /** Retries of a transient failure, per API call and per file. */
  maxRetries: number
  stallTimeoutMs: number
  /** What artifact mode does where artifacts cannot be uploaded: fail, or keep the files. */
  artifactFallback: 'fail' | 'files'
  /** What a COMPLETED download with no files, or with files holding no records, does. */
  ifNoResults: NoResultsAction
  /** `overwrite`: replace an artifact of the same name on the run instead of failing. */
  overwrite: boolean
  /** `reuse-request`: a later attempt of the run picks up the download an earlier one created. */
  reuseRequest: boolean
  /** Where a created request id is remembered; undefined when there is nothing to remember. */
  requestKey: string | undefined
  /** This job's share of the result files; undefined for all of them. */
  shard: Shard | undefined
  /** File bodies on the action's own sockets where it can (http/direct-get.ts). */
  directDownloads: boolean
  /** `since`: the window the created download is limited to; undefined for every match. */
  window: WindowSpec | undefined
  /** Reads and keeps the `last-success` mark's durable copy (a workflow artifact). */
  githubToken: string
}

/** Absolute download directory, once the request id is known. */
export function downloadPathFor(settings: Settings, requestId: string): string {
  return path.resolve(
    settings.workspace,
    settings.path || path.join('datafiniti', idForName(requestId))
  )
}

// Characters that @actions/artifact refuses in an artifact name.
const ARTIFACT_NAME_FORBIDDEN = /[":<>|*?\r\n\\/]/

/**
 * Every input, validated, as one typed object. Pure: a function of the environment and the working
 * directory only, so that every bad input is reported before any network call.
 */
export function parseSettings(env: Env, cwd: string): Settings {
  const token = read(env, Inputs.Token)
  if (token === '') {
    throw new InputError(`Input '${Inputs.Token}' is required: your Datafiniti API token.`)
  }
  // Printable ASCII only (it goes into an HTTP header), and no ':' (it is a Basic user name).
  if (!/^[\x21-\x7e]+$/.test(token) || token.includes(':')) {
    // The value is never echoed: it is a secret even when malformed.
    throw new InputError(
      `Input '${Inputs.Token}' must be a single Datafiniti API token of printable ASCII characters, without spaces, line breaks or ':'.`
    )
  }

  const rawVersion = read(env, Inputs.ApiVersion).toLowerCase() || Defaults.ApiVersion
  if (!(ApiVersions as readonly string[]).includes(rawVersion)) {
    throw new InputError(
      `Input '${Inputs.ApiVersion}' must be one of ${ApiVersions.join(', ')}; got ${quote(read(env, Inputs.ApiVersion))}.`
    )
  }
  const apiVersion = rawVersion as ApiVersion

  const rawId = read(env, Inputs.RequestId)
  const rawQuery = read(env, Inputs.Query)
  if ((rawId === '') === (rawQuery === '')) {
    throw new InputError(
      `Give exactly one of the inputs '${Inputs.RequestId}' (an existing download request) and ` +
        `'${Inputs.Query}' (a Datafiniti query to create a download from)` +
        (rawId === '' ? '; neither is set.' : '; both are set.')
    )
  }
  const shard = parseShard(read(env, Inputs.Shard), rawQuery !== '')
  const budget = parseBudget(env, rawQuery !== '', apiVersion)
  const requestId = rawId === '' ? undefined : parseRequestId(rawId, apiVersion)
  const query = rawQuery === '' ? undefined : parseQuery(env, rawQuery, apiVersion)
  if (!query) {
    // `format` has a default, so it is always set: only its value can be wrong.
    parseFormat(env)
    for (const name of [Inputs.DataType, Inputs.NumRecords, Inputs.View, Inputs.Since]) {
      if (read(env, name) !== '') {
        throw new InputError(
          `Input '${name}' only applies with '${Inputs.Query}'; remove it or give a query instead of '${Inputs.RequestId}'.`
        )
      }
    }
  }

  const apiUrl = parseApiUrl(read(env, Inputs.ApiUrl) || Defaults.ApiUrl)

  const rawMode = read(env, Inputs.Mode).toLowerCase() || Defaults.Mode
  if (!(Modes as readonly string[]).includes(rawMode)) {
    throw new InputError(
      `Input '${Inputs.Mode}' must be one of ${Modes.join(', ')}; got ${quote(read(env, Inputs.Mode))}.`
    )
  }
  const mode = rawMode as Mode

  const workspace = env['GITHUB_WORKSPACE'] || cwd
  const rawPath = read(env, Inputs.Path)
  if (rawPath.includes('\0')) {
    throw new InputError(`Input '${Inputs.Path}' must be a directory path; got a NUL character.`)
  }

  const artifactName = read(env, Inputs.ArtifactName)
  if (ARTIFACT_NAME_FORBIDDEN.test(artifactName)) {
    throw new InputError(
      `Input '${Inputs.ArtifactName}' must not contain any of " : < > | * ? \\ / or a line break; got ${quote(artifactName)}.`
    )
  }

  const reuseRequest = boolean(env, Inputs.ReuseRequest, Defaults.ReuseRequest)
  return {
    token,
    apiVersion,
    requestId,
    query,
    apiUrl,
    mode,
    workspace,
    path: rawPath,
    artifactName,
    retentionDays: parseRetention(env),
    compressionLevel: integer(env, Inputs.CompressionLevel, 0, 9, Defaults.CompressionLevel),
    pollIntervalMs: duration(env, Inputs.PollInterval, Defaults.PollInterval, 10),
    waitTimeoutMs: duration(env, Inputs.WaitTimeout, Defaults.WaitTimeout, 10),
    concurrency: integer(env, Inputs.Concurrency, 1, Limits.MaxConcurrency, Defaults.Concurrency),
    maxRetries: integer(env, Inputs.MaxRetries, 0, Limits.MaxRetries, Defaults.MaxRetries),
    stallTimeoutMs: duration(env, Inputs.StallTimeout, Defaults.StallTimeout, 100),
    artifactFallback: parseFallback(read(env, Inputs.ArtifactFallback)),
    ifNoResults: parseIfNoResults(read(env, Inputs.IfNoResults)),
    overwrite: boolean(env, Inputs.Overwrite, Defaults.Overwrite),
    reuseRequest,
    requestKey: reuseRequest ? requestKey(env, query, apiVersion, apiUrl, token) : undefined,
    shard,
    ...budget,
    directDownloads: parseDirectDownloads(env),
    window: parseWindow(env, query, apiVersion, apiUrl, token),
    // Outside a runner the default arrives unevaluated: no token then.
    githubToken: read(env, Inputs.GithubToken).replace(/^\$\{\{.*\}\}$/, '')
  }
}

function parseFallback(raw: string): 'fail' | 'files' {
  const value = raw.toLowerCase() || Defaults.ArtifactFallback
  if (value === 'fail') return 'fail'
  if (value === 'files') return 'files'
  throw new InputError(
    `Input '${Inputs.ArtifactFallback}' must be fail or files; got ${quote(raw)}.`
  )
}

function parseIfNoResults(raw: string): NoResultsAction {
  const value = raw.toLowerCase() || Defaults.IfNoResults
  if ((NoResultsActions as readonly string[]).includes(value)) return value as NoResultsAction
  throw new InputError(
    `Input '${Inputs.IfNoResults}' must be one of ${NoResultsActions.join(', ')}; got ${quote(raw)}.`
  )
}

function parseApiUrl(raw: string): string {
  const expected = `Input '${Inputs.ApiUrl}' must be an http(s) base URL such as ${Defaults.ApiUrl}`
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InputError(`${expected}; got ${quote(raw)}.`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError(`${expected}; got the scheme ${quote(url.protocol)}.`)
  }
  if (url.username || url.password) {
    throw new InputError(`${expected}, without credentials: pass the token in '${Inputs.Token}'.`)
  }
  if (url.search || url.hash) {
    // Not echoed: a query may well hold a token.
    throw new InputError(`${expected}, without a query or fragment.`)
  }
  // The token goes with every call: plain http would send it readable by anyone on the way.
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new InputError(
      `Input '${Inputs.ApiUrl}' must use https: the token goes with every call. Plain http is only accepted for a ` +
        `loopback host (localhost, 127.0.0.0/8, [::1]); got http for ${quote(url.host)}.`
    )
  }
  return url.href.replace(/\/+$/, '')
}

/** This machine itself: traffic to it never crosses a network. */
function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase()
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  )
}
