import type { Settings } from '../inputs/settings.js'
import { formatDuration } from '../support/format.js'
import type { Logger } from '../support/log.js'

/** The run's plan, in two lines, before any request: what, where, how often, how many at once. */
export function announce(settings: Settings, log: Logger): void {
  const source = settings.requestId
    ? `Request ${settings.requestId}`
    : `New ${settings.query?.dataType ?? ''} download from a query`
  log.info(
    `${source} at ${new URL(settings.apiUrl).host} (API ${settings.apiVersion}), mode ${settings.mode}`
  )
  log.info(
    `Poll every ${formatDuration(settings.pollIntervalMs)} for up to ${formatDuration(settings.waitTimeoutMs)}; ` +
      `${settings.concurrency} download(s) at once, ${settings.maxRetries} retries`
  )
}
