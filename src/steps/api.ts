import type { CallRunner, DatafinitiClient } from '../api/client.js'
import { V3Client } from '../api/v3.js'
import { V4Client } from '../api/v4.js'
import type { QuerySpec } from '../domain/model.js'
import type { Settings } from '../inputs/settings.js'
import type { Ports } from '../ports.js'
import { FatalError, isTransient, isUnsent } from '../support/errors.js'
import { createFailure } from '../support/failure-text.js'
import { formatCount } from '../support/format.js'
import { logRetry, retryPolicy, withRetry } from '../support/retry.js'

/** The API client of the chosen version, every call through the one retry policy. */
export function apiClient(
  settings: Settings,
  { http, clock, runner, signal }: Ports
): DatafinitiClient {
  const policy = retryPolicy(settings.maxRetries)
  const call: CallRunner = (what, fn, options) =>
    withRetry(fn, {
      ...policy,
      clock,
      signal,
      // A create that may have reached the server is never sent again: it could buy the data twice.
      isTransient: options?.idempotent === false ? isUnsent : isTransient,
      ...(options?.deadline !== undefined ? { deadline: options.deadline } : {}),
      onRetry: logRetry(runner, () => what)
    })
  const Client = settings.apiVersion === 'v4' ? V4Client : V3Client
  return new Client({
    http: http.api,
    baseUrl: settings.apiUrl,
    token: settings.token,
    call,
    now: () => clock.now(),
    mask: secret => runner.setSecret(secret)
  })
}

export async function create(
  client: DatafinitiClient,
  spec: QuerySpec | undefined,
  { runner }: Ports
): Promise<string> {
  if (!spec) throw new FatalError('Neither a request id nor a query to create a download from.')
  return runner.group('Create download', async () => {
    const records =
      spec.numRecords === 'all'
        ? 'every matching record'
        : `up to ${formatCount(spec.numRecords)} records`
    runner.info(`Creating a ${spec.format} download of ${records} of ${spec.dataType}`)
    let id: string
    try {
      id = await client.createDownload(spec)
    } catch (error) {
      throw createFailure(error)
    }
    runner.info(`Created download request ${id}`)
    return id
  })
}
