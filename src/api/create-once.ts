import { isRequestId, type ApiVersion } from '../domain/model.js'
import { Inputs } from '../domain/action-io.js'
import { errorMessage } from '../support/errors.js'
import type { Logger } from '../support/log.js'
import { redact } from '../support/secrets.js'

/** Where a created request id outlives the attempt that created it (the Actions cache). */
export interface RequestMemory {
  /** Why nothing can be remembered here, or undefined when it can. */
  unavailable(): string | undefined
  /** The request id remembered under `key`, or undefined. */
  recall(key: string): Promise<string | undefined>
  remember(key: string, requestId: string): Promise<void>
}

/** The settings that decide reuse. */
export interface ReuseSettings {
  /** undefined: nothing to remember (reuse switched off, or not in a workflow run). */
  requestKey: string | undefined
  reuseRequest: boolean
  apiVersion: ApiVersion
}

/**
 * Creates a download at most once per run, job, step and query: a re-run picks up the request an
 * earlier attempt created (and paid for) and goes on waiting for or downloading it. The memory is a
 * convenience, never a condition: when it cannot be read or written, the run warns and creates.
 */
export async function createOnce(
  create: () => Promise<string>,
  { requestKey: key, reuseRequest: reuse, apiVersion }: ReuseSettings,
  memory: RequestMemory,
  log: Logger
): Promise<string> {
  if (!reuse) {
    log.info(`'${Inputs.ReuseRequest}' is false: a new download is created on every attempt.`)
    return create()
  }
  const unavailable = key === undefined ? 'not in a workflow run' : memory.unavailable()
  if (key === undefined || unavailable !== undefined) {
    log.info(`A re-run of this step will create a new download: ${unavailable ?? ''}.`)
    return create()
  }

  let recalled: string | undefined
  try {
    recalled = await memory.recall(key)
  } catch (error) {
    log.warning(
      `Could not look up a download created by an earlier attempt of this run ` +
        `(${redact(errorMessage(error))}); creating a new one.`
    )
  }
  if (recalled !== undefined && isRequestId(recalled, apiVersion)) {
    log.info(
      `Reusing download request ${recalled}: an earlier attempt of this run (same job, step and ` +
        `query inputs) created it, so the data is not bought again. Set '${Inputs.ReuseRequest}: ` +
        `false' to create a new download instead.`
    )
    return recalled
  }
  if (recalled !== undefined) log.debug(`Ignored a remembered request id of the wrong form.`)

  const id = await create()
  try {
    await memory.remember(key, id)
    log.info(`Remembered request ${id} for re-runs of this run (cache key ${key}).`)
  } catch (error) {
    log.warning(
      `Could not remember request ${id} for re-runs (${redact(errorMessage(error))}): ` +
        `a re-run of this run would create a new download.`
    )
  }
  return id
}
