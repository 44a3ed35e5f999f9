import type { Env } from '../domain/action-io.js'
import { Inputs } from '../domain/action-io.js'
import type { ApiVersion, QuerySpec } from '../domain/model.js'
import type { Since, WindowSpec } from '../domain/window.js'
import { parseDuration } from '../support/format.js'
import { Defaults } from './defaults.js'
import { markScope } from './mark-scope.js'
import { InputError, quote, read } from './read.js'

// A Datafiniti field name as a query names it: `dateUpdated`, `prices.dateSeen`.
const FIELD = /^[A-Za-z][A-Za-z0-9_.]*$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i
const DAYS = /^(\d+(?:\.\d+)?)d(.*)$/

/**
 * `since` and `since-field`: the window a download created from `query` is limited to, or
 * undefined without one. Pure, like every input, so a bad value stops the run before any request.
 */
export function parseWindow(
  env: Env,
  query: QuerySpec | undefined,
  apiVersion: ApiVersion,
  apiUrl: string,
  token: string
): WindowSpec | undefined {
  const rawField = read(env, Inputs.SinceField) || Defaults.SinceField
  if (!FIELD.test(rawField)) {
    throw new InputError(
      `Input '${Inputs.SinceField}' must be a Datafiniti date field name such as dateUpdated or ` +
        `dateAdded (a letter, then letters, digits, '_' or '.'); got ${quote(rawField)}.`
    )
  }
  const raw = read(env, Inputs.Since)
  if (raw === '') return undefined
  if (!query) {
    throw new InputError(
      `Input '${Inputs.Since}' only applies with '${Inputs.Query}': it limits the download the ` +
        `action creates. Remove it, or give a query instead of '${Inputs.RequestId}'.`
    )
  }
  const since = parseSince(raw)
  if (since.kind === 'last-success' && typeof query.numRecords === 'number') {
    // Capped, a window that matched more than the cap would either skip the rest for good (the mark
    // moves past it) or buy the same first records again (it does not): neither is paid for rightly.
    throw new InputError(
      `Input '${Inputs.Since}: last-success' buys every record changed since the last success, so ` +
        `'${Inputs.NumRecords}' must be all (got ${query.numRecords}): a cap would skip the rest of ` +
        `the window for good. Set '${Inputs.NumRecords}: all' and put the budget in ` +
        `'${Inputs.MaxRecords}: ${query.numRecords}', which fails before buying when more match.`
    )
  }
  const scope =
    since.kind === 'last-success'
      ? markScope(env, { query, apiVersion, apiUrl, field: rawField, token })
      : undefined
  return { since, field: rawField, scope }
}

export function parseSince(raw: string): Since {
  if (raw.toLowerCase() === 'last-success') return { kind: 'last-success' }
  const ms = sinceDuration(raw)
  if (ms !== undefined) return { kind: 'ago', ms }
  const from = sinceDate(raw)
  if (from !== undefined) return { kind: 'date', from }
  throw new InputError(
    `Input '${Inputs.Since}' must be last-success, a duration with a unit (36h, 7d, 1d12h), a ` +
      `date (2026-11-01) or a date-time with a zone (2026-11-01T06:00:00Z); got ${quote(raw)}.`
  )
}

/** `7d`, `36h`, `1d12h`, `90m`: a unit is required (a bare number could be anything). */
function sinceDuration(raw: string): number | undefined {
  const text = raw.trim().toLowerCase()
  const days = DAYS.exec(text)
  const dayMs = days ? Number(days[1]) * 86_400_000 : 0
  const rest = days ? (days[2] ?? '') : text
  if (rest !== '' && (/^\d+(?:\.\d+)?$/.test(rest) || parseDuration(rest) === undefined)) {
    return undefined
  }
  const ms = dayMs + (rest === '' ? 0 : (parseDuration(rest) ?? 0))
  return ms > 0 && Number.isFinite(ms) && (days || rest !== '') ? Math.round(ms) : undefined
}

function sinceDate(raw: string): Date | undefined {
  const day = DATE.exec(raw)
  if (day) {
    const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])]
    const value = new Date(Date.UTC(year, month - 1, date))
    // 2026-02-30 is no day: Date would roll it over to March.
    return value.getUTCMonth() === month - 1 && value.getUTCDate() === date ? value : undefined
  }
  if (!DATE_TIME.test(raw)) return undefined
  const value = new Date(raw)
  return Number.isNaN(value.getTime()) ? undefined : value
}
