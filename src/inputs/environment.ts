import { Environment, Inputs, type Env } from '../domain/action-io.js'
import { Limits } from './defaults.js'
import { InputError, quote, read } from './read.js'

/** Settings read from the environment beyond one input's plain text: retention, and knobs. */

export function parseDirectDownloads(env: Env): boolean {
  const name = Environment.DirectDownloads
  const raw = (env[name] ?? '').trim().toLowerCase()
  if (raw === '' || raw === 'true') return true
  if (raw === 'false') return false
  throw new InputError(
    `Environment variable ${name} must be true or false (unset means true); got ${quote(env[name] ?? '')}.`
  )
}

/** As actions/upload-artifact: any positive number; the toolkit shortens it to the repository's. */
export function parseRetention(env: Env): number | undefined {
  const raw = read(env, Inputs.RetentionDays)
  if (raw === '') return undefined
  const days = /^\d+$/.test(raw) ? Number(raw) : NaN
  if (!(days >= Limits.MinRetentionDays && days <= Limits.MaxRetentionDays)) {
    throw new InputError(
      `Input '${Inputs.RetentionDays}' must be a positive whole number of days (more than the ` +
        `repository allows is shortened to its maximum, with a warning); got ${quote(raw)}.`
    )
  }
  return days
}
