import {
  DataTypes,
  Formats,
  isRequestId,
  type ApiVersion,
  type DataType,
  type Format,
  type QuerySpec
} from '../domain/model.js'
import { Inputs, type Env } from '../domain/action-io.js'
import { Defaults } from './defaults.js'
import { InputError, quote, read } from './read.js'

/** The download to fetch or to create: `request-id`, or `query` with what it needs. */

export function parseRequestId(raw: string, version: ApiVersion): string {
  if (version === 'v3') {
    if (!isRequestId(raw, 'v3')) {
      throw new InputError(
        `Input '${Inputs.RequestId}' must be a positive integer such as 6073 (a v3 download request id); got ${quote(raw)}.`
      )
    }
    return raw.replace(/^0+/, '')
  }
  // v4 ids are opaque strings: refuse only what cannot be a path segment.
  if (!isRequestId(raw, 'v4')) {
    throw new InputError(
      `Input '${Inputs.RequestId}' must be a v4 download id: letters, digits, '.', '_', '~' or '-' ` +
        `(for example 5f1e2d3c4b5a69788796a5b4); got ${quote(raw)}.`
    )
  }
  return raw
}

export function parseFormat(env: Env): Format {
  const raw = read(env, Inputs.Format).toUpperCase() || Defaults.Format
  if (!(Formats as readonly string[]).includes(raw)) {
    throw new InputError(
      `Input '${Inputs.Format}' must be CSV or JSON; got ${quote(read(env, Inputs.Format))}.`
    )
  }
  return raw as Format
}

export function parseQuery(env: Env, query: string, version: ApiVersion): QuerySpec {
  const types: readonly string[] = DataTypes[version]
  const rawType = read(env, Inputs.DataType).toLowerCase()
  if (!types.includes(rawType)) {
    throw new InputError(
      `Input '${Inputs.DataType}' is required with '${Inputs.Query}' and must be one of ${types.join(', ')} ` +
        `for API ${version}; got ${quote(read(env, Inputs.DataType))}.`
    )
  }
  const format = parseFormat(env)
  const rawRecords = read(env, Inputs.NumRecords).toLowerCase()
  let numRecords: number | 'all'
  if (rawRecords === 'all') {
    numRecords = 'all'
  } else {
    numRecords = /^\d+$/.test(rawRecords) ? Number(rawRecords) : NaN
    if (!Number.isSafeInteger(numRecords) || numRecords < 1) {
      throw new InputError(
        `Input '${Inputs.NumRecords}' is required with '${Inputs.Query}': the most records to download (and pay for), ` +
          `a positive whole number such as 1000, or 'all' to allow every match; got ${quote(read(env, Inputs.NumRecords))}.`
      )
    }
  }
  const view = read(env, Inputs.View)
  return {
    query,
    dataType: rawType as DataType,
    format,
    numRecords,
    view: view || undefined
  }
}
