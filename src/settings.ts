import * as path from 'node:path'
import { Defaults, Inputs, Limits, Modes, type Mode } from './constants.js'
import { formatDuration, parseDuration } from './duration.js'

export interface Settings {
  token: string
  requestId: string
  /** Base URL without a trailing slash; the client appends `/v3/...`. */
  apiUrl: string
  mode: Mode
  /** Absolute download directory. */
  downloadPath: string
  artifactName: string
  retentionDays: number | undefined
  compressionLevel: number
  pollIntervalMs: number
  waitTimeoutMs: number
  concurrency: number
  /** Retries of a transient failure, per API call and per file. */
  maxRetries: number
  stallTimeoutMs: number
}

/** Bad input: the message names the input and the expected form. */
export class InputError extends Error {
  override name = 'InputError'
}

type Env = Record<string, string | undefined>

/** The runner passes input `foo-bar` as env `INPUT_FOO-BAR` (spaces become `_`, hyphens stay). */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

function read(env: Env, name: string): string {
  return (env[inputEnvName(name)] ?? '').trim()
}

function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
}

function integer(env: Env, name: string, min: number, max: number, fallback: number): number
function integer(env: Env, name: string, min: number, max: number): number | undefined
function integer(env: Env, name: string, min: number, max: number, fallback?: number) {
  const raw = read(env, name)
  if (raw === '') return fallback
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InputError(
      `Input '${name}' must be a whole number from ${min} to ${max}; got ${quote(raw)}.`
    )
  }
  return value
}

function duration(env: Env, name: string, fallback: string, minMs: number): number {
  const raw = read(env, name) || fallback
  const ms = parseDuration(raw)
  if (ms === undefined || ms < minMs) {
    throw new InputError(
      `Input '${name}' must be a duration of at least ${formatDuration(minMs)}: a number of seconds ` +
        `or a number with a unit ms, s, m or h (for example 30s, 1.5s, 10m, 2h); got ${quote(raw)}.`
    )
  }
  return ms
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
  if (/[\s:]/.test(token)) {
    // The value is never echoed: it is a secret even when malformed.
    throw new InputError(
      `Input '${Inputs.Token}' must be a single Datafiniti API token without spaces, line breaks or ':'.`
    )
  }

  const rawId = read(env, Inputs.RequestId)
  if (rawId === '') {
    throw new InputError(
      `Input '${Inputs.RequestId}' is required: the id of a Datafiniti download request, a positive integer such as 6073.`
    )
  }
  if (!/^\d+$/.test(rawId) || /^0+$/.test(rawId)) {
    throw new InputError(
      `Input '${Inputs.RequestId}' must be a positive integer such as 6073; got ${quote(rawId)}.`
    )
  }
  const requestId = rawId.replace(/^0+/, '')

  const apiUrl = parseApiUrl(read(env, Inputs.ApiUrl) || Defaults.ApiUrl)

  const rawMode = read(env, Inputs.Mode).toLowerCase() || Defaults.Mode
  if (!(Modes as readonly string[]).includes(rawMode)) {
    throw new InputError(
      `Input '${Inputs.Mode}' must be one of ${Modes.join(', ')}; got ${quote(read(env, Inputs.Mode))}.`
    )
  }
  const mode = rawMode as Mode

  const workspace = env['GITHUB_WORKSPACE'] || cwd
  const rawPath = read(env, Inputs.Path) || path.join('datafiniti', requestId)
  if (rawPath.includes('\0')) {
    throw new InputError(`Input '${Inputs.Path}' must be a directory path; got a NUL character.`)
  }
  const downloadPath = path.resolve(workspace, rawPath)

  const artifactName = read(env, Inputs.ArtifactName) || `datafiniti-${requestId}`
  if (ARTIFACT_NAME_FORBIDDEN.test(artifactName)) {
    throw new InputError(
      `Input '${Inputs.ArtifactName}' must not contain any of " : < > | * ? \\ / or a line break; got ${quote(artifactName)}.`
    )
  }

  return {
    token,
    requestId,
    apiUrl,
    mode,
    downloadPath,
    artifactName,
    retentionDays: integer(
      env,
      Inputs.RetentionDays,
      Limits.MinRetentionDays,
      Limits.MaxRetentionDays
    ),
    compressionLevel: integer(env, Inputs.CompressionLevel, 0, 9, Defaults.CompressionLevel),
    pollIntervalMs: duration(env, Inputs.PollInterval, Defaults.PollInterval, 10),
    waitTimeoutMs: duration(env, Inputs.WaitTimeout, Defaults.WaitTimeout, 10),
    concurrency: integer(env, Inputs.Concurrency, 1, Limits.MaxConcurrency, Defaults.Concurrency),
    maxRetries: integer(env, Inputs.MaxRetries, 0, Limits.MaxRetries, Defaults.MaxRetries),
    stallTimeoutMs: duration(env, Inputs.StallTimeout, Defaults.StallTimeout, 100)
  }
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
  return url.href.replace(/\/+$/, '')
}
