import type { DatafinitiClient, DownloadState, ResultFile } from './client.js'
import { formatDuration } from '../support/format.js'
import { FatalError } from '../support/errors.js'
import { formatCount } from '../support/format.js'
import { type Logger } from '../support/log.js'
import type { Clock } from '../support/clock.js'
import { safeText } from '../support/text.js'

export interface WaitOptions {
  pollIntervalMs: number
  waitTimeoutMs: number
  clock: Clock
  log: Logger
  signal?: AbortSignal
}

export interface Completed {
  state: DownloadState
  results: ResultFile[]
  waitedMs: number
}

/** `STARTED 41,200 / 95,378 records (43%), 3m10s elapsed, about 4m left` */
export function progressLine(state: DownloadState, elapsedMs: number): string {
  const parts = [state.status]
  const { numDownloaded: done, numRequested: total } = state
  if (done !== undefined && total !== undefined && total > 0) {
    const share = Math.min(100, Math.floor((done / total) * 100))
    parts.push(`${formatCount(done)} / ${formatCount(total)} records (${share}%)`)
  }
  let line = `${parts.join(' ')}, ${formatDuration(elapsedMs)} elapsed`
  if (done !== undefined && total !== undefined && done > 0 && done < total && elapsedMs > 0) {
    line += `, about ${formatDuration(((total - done) * elapsedMs) / done)} left`
  }
  return line
}

/**
 * The API's own words start log lines here (`STARTED 41,200 / …`): one line each, never a workflow
 * command, whichever client read them.
 */
function loggable(state: DownloadState): DownloadState {
  return { ...state, status: safeText(state.status), error: safeText(state.error) }
}

/**
 * Polls until the request is complete and its result files are listed (possibly none), or fails with the reason:
 * the request's own error, or the timeout with the last status seen.
 */
export async function waitForResults(
  client: Pick<DatafinitiClient, 'getRequest' | 'getResults'>,
  requestId: string,
  options: WaitOptions
): Promise<Completed> {
  const { clock, log } = options
  const start = clock.now()
  const deadline = start + options.waitTimeoutMs
  for (;;) {
    options.signal?.throwIfAborted()
    const state = loggable(await client.getRequest(requestId, { deadline }))
    const elapsed = clock.now() - start
    if (state.phase === 'failed') {
      const said = state.error ? `: "${state.error}"` : ''
      throw new FatalError(
        `Datafiniti download request ${requestId} failed (status ${state.status})${said}.`
      )
    }
    if (state.phase === 'completed') {
      const results = await client.getResults(requestId, { deadline })
      if (results !== undefined) {
        // An empty list is a finished download with no results: the pipeline decides what that
        // means ('if-no-results'), not the wait.
        log.info(`${progressLine(state, elapsed)}; ${results.length} result file(s) ready`)
        return { state, results, waitedMs: elapsed }
      }
      log.info(`${state.status}, result files not listed yet, ${formatDuration(elapsed)} elapsed`)
    } else {
      log.info(progressLine(state, elapsed))
    }
    const remaining = deadline - clock.now()
    if (remaining <= 0) {
      const last =
        state.phase === 'completed'
          ? `${state.status} with no result files listed yet`
          : progressLine(state, elapsed)
      throw new FatalError(
        `Gave up after wait-timeout ${formatDuration(options.waitTimeoutMs)} waiting for Datafiniti download request ${requestId}: ` +
          `last seen ${last}. The request goes on at Datafiniti: raise 'wait-timeout' or run again later.`
      )
    }
    await clock.sleep(Math.min(options.pollIntervalMs, remaining), options.signal)
  }
}
