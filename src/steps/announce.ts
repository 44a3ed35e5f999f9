import { checkArtifactName } from '../deliver/clash.js'
import { artifactNameFor, type Settings } from '../inputs/settings.js'
import type { Ports } from '../ports.js'
import { FatalError } from '../support/errors.js'
import { formatDuration } from '../support/format.js'

/**
 * What can be known before any network call: where artifact mode cannot upload, fail now (or go
 * on with the files kept, if the user said so) rather than after an hour of waiting.
 */
export async function preflight(
  settings: Settings,
  { runner, artifacts }: Ports
): Promise<{ uploadBlocked: boolean; nameChecked: boolean }> {
  let uploadBlocked = false
  const blocker = settings.mode === 'artifact' ? artifacts.blocker() : undefined
  if (blocker !== undefined) {
    if (settings.artifactFallback !== 'files') throw new FatalError(blocker)
    runner.warning(
      `${blocker} 'artifact-fallback: files' is set: the files will be downloaded and kept.`
    )
    uploadBlocked = true
  }
  const source = settings.requestId
    ? `Request ${settings.requestId}`
    : `New ${settings.query?.dataType ?? ''} download from a query`
  runner.info(
    `${source} at ${new URL(settings.apiUrl).host} (API ${settings.apiVersion}), mode ${settings.mode}`
  )
  runner.info(
    `Poll every ${formatDuration(settings.pollIntervalMs)} for up to ${formatDuration(settings.waitTimeoutMs)}; ` +
      `${settings.concurrency} download(s) at once, ${settings.maxRetries} retries`
  )
  // Known before anything is created when given, or when the request id is.
  const name = settings.requestId
    ? artifactNameFor(settings, settings.requestId)
    : settings.artifactName
  const nameChecked = settings.mode === 'artifact' && !uploadBlocked && name !== ''
  if (nameChecked) await checkArtifactName(name, settings.overwrite, artifacts, runner)
  return { uploadBlocked, nameChecked }
}
