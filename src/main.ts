import type { Env } from './domain/action-io.js'
import * as core from '@actions/core'
import { Inputs, inputEnvName } from './domain/action-io.js'
import * as github from './github.js'
import { parseSettings } from './inputs/settings.js'
import { runPipeline } from './pipeline.js'
import { newRunState, renderFailureSummary } from './report/failure-summary.js'
import { systemClock } from './support/clock.js'
import { finalMessage } from './support/failure-text.js'
import { createHttp, type Http } from './http/transport.js'
import { tokenSecrets } from './support/secrets.js'
import { defaultHasher } from './transfer/digest-ring.js'
import { freeBytesAt } from './transfer/disk-space.js'

/** Builds the ports from the real runner and runs the pipeline; every failure ends here. */
export async function run(env: Env = process.env): Promise<void> {
  const runner = github.githubRunner(env)
  // Masked before anything else runs, in every form it could take in a log.
  const secrets = tokenSecrets((env[inputEnvName(Inputs.Token)] ?? '').trim())
  for (const secret of secrets) runner.setSecret(secret)
  const lifetime = github.watchProcess()
  const state = newRunState()
  const http: (Http & { dispose(): void })[] = []
  const hasher = defaultHasher()
  try {
    const settings = parseSettings(env, process.cwd())
    // Every answer, head and body, API or file, is under the stall timeout and the job's signal.
    const transport = { socketTimeoutMs: settings.stallTimeoutMs, signal: lifetime.signal }
    const api = createHttp({ ...transport, direct: false })
    const files = createHttp({ ...transport, direct: settings.directDownloads, files: {} })
    http.push(api, files)
    const ports = {
      http: { api, files },
      clock: systemClock,
      runner,
      artifacts: github.githubArtifacts(env),
      memory: github.githubRequestMemory(env),
      marks: github.githubMarks(env, api, settings.githubToken),
      signal: lifetime.signal,
      disk: { freeBytes: freeBytesAt },
      hasher
    }
    await runPipeline(settings, ports, state)
  } catch (error) {
    const message = finalMessage(error, secrets)
    core.setFailed(message)
    // The page says what failed too; a summary that cannot be written must not hide the failure.
    await runner.summary(renderFailureSummary(state, message)).catch(() => undefined)
  } finally {
    for (const client of http) client.dispose()
    hasher.dispose()
    lifetime.dispose()
  }
}
