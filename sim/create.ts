/** Downloads created from a known query: the checks and bookkeeping both API versions share. */
import { randomBytes } from 'node:crypto'
import type * as http from 'node:http'
import { apiError, statusFault } from './api-shared.js'
import type { ApiVersion, SimState } from './state.js'
import { matchQuery, recordFiles } from './query-match.js'
import type { CreatedDownload, SimQuery, SimRequest } from './types.js'

const DATA_TYPES = {
  v3: ['products', 'businesses', 'properties'],
  v4: ['products', 'businesses', 'properties', 'people']
}

/** What a create call asked for, whichever version's syntax it came in. */
export type CreateAsk = Omit<CreatedDownload, 'version' | 'id'> & { download: boolean }

export interface Creation {
  id: string
  numRequested: number
  spec: SimQuery
}

/** Records the call and makes the new request; undefined once it has answered an error. */
export function createDownload(
  state: SimState,
  res: http.ServerResponse,
  version: ApiVersion,
  path: string,
  ask: CreateAsk
): Creation | undefined {
  state.createCalls.push({ version, path })
  const { spec, records, invalid } = matchQuery(state.options, ask.query)
  if (statusFault(res, spec?.createFaults)) return undefined
  if (invalid !== undefined) {
    apiError(res, 400, 'Bad Request', invalid)
    return undefined
  }
  if (!DATA_TYPES[version].includes(ask.dataType)) {
    apiError(res, 404, 'Not Found', `Unknown data type ${ask.dataType}`)
    return undefined
  }
  if (!ask.download) {
    apiError(res, 400, 'Bad Request', 'The simulator serves downloads only: set download=true')
    return undefined
  }
  const numFound = records?.length ?? spec?.numFound ?? 0
  const numRequested = Math.min(numFound, ask.numRecords ?? numFound)
  if (!spec || numRequested <= 0) {
    apiError(res, 400, 'Bad Request', 'numRequested cannot be <= 0')
    return undefined
  }
  const { previewLimit } = state.options
  if (previewLimit !== undefined && numRequested > previewLimit) {
    apiError(res, 403, 'Forbidden', 'Request exceeds preview record limit for your plan')
    return undefined
  }
  const id = version === 'v3' ? String(state.nextV3Id++) : randomBytes(12).toString('hex')
  const request: SimRequest = {
    id,
    dataFormat: ask.format === 'JSON' ? 'json' : 'csv',
    numRequested,
    pollsUntilComplete: spec.pollsUntilComplete ?? 1,
    files: spec.files
      ? spec.files(id, { numRequested, format: ask.format, view: ask.view, records: records ?? [] })
      : recordFiles(id, (records ?? []).slice(0, numRequested), ask.format),
    ...(spec.finalStatus ? { finalStatus: spec.finalStatus } : {}),
    ...(spec.pollFaults ? { requestFaults: [...spec.pollFaults] } : {})
  }
  state.requests.set(id, request)
  state.created.push({
    version,
    id,
    dataType: ask.dataType,
    query: ask.query,
    format: ask.format,
    numRecords: ask.numRecords,
    view: ask.view
  })
  return { id, numRequested, spec }
}
