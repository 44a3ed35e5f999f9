import type { ApiVersion } from '../domain/model.js'
import { Inputs, type Env } from '../domain/action-io.js'
import { Defaults } from './defaults.js'
import { InputError, quote, read } from './read.js'
import { boolean } from './request-key.js'

/** What a query run learns before buying, and what it refuses to buy. */
export interface Budget {
  /** More matches than this fail the run before anything is bought; undefined for no limit. */
  maxRecords: number | undefined
  /** Count, report and buy nothing. */
  dryRun: boolean
}

/**
 * `max-records` and `dry-run`: both need a query (a given `request-id` is bought already) and API
 * v4, the one version that counts a query's matches without creating a download.
 */
export function parseBudget(env: Env, withQuery: boolean, version: ApiVersion): Budget {
  const rawMax = read(env, Inputs.MaxRecords)
  let maxRecords: number | undefined
  if (rawMax !== '') {
    maxRecords = /^\d+$/.test(rawMax) ? Number(rawMax) : NaN
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 1) {
      throw new InputError(
        `Input '${Inputs.MaxRecords}' must be a positive whole number such as 10000: the most records a ` +
          `query may match before the run fails without buying; got ${quote(rawMax)}.`
      )
    }
  }
  const dryRun = boolean(env, Inputs.DryRun, Defaults.DryRun)
  const asked = [
    ...(maxRecords !== undefined ? [Inputs.MaxRecords] : []),
    ...(dryRun ? [Inputs.DryRun] : [])
  ]
  const named = asked.map(name => `'${name}'`).join(' and ')
  const [subject, verb] = asked.length > 1 ? ['Inputs', ''] : ['Input', 's']
  if (asked.length > 0 && !withQuery) {
    throw new InputError(
      `${subject} ${named} only appl${verb ? 'ies' : 'y'} with '${Inputs.Query}': a download given by '${Inputs.RequestId}' ` +
        `is bought already. Remove it, or give a query instead.`
    )
  }
  if (asked.length > 0 && version !== 'v4') {
    throw new InputError(
      `${subject} ${named} need${verb} '${Inputs.ApiVersion}: v4': API ${version} cannot count a query's matches ` +
        `without creating (and paying for) the download.`
    )
  }
  return { maxRecords, dryRun }
}
