import * as core from '@actions/core'
import { Inputs, inputEnvName } from './domain/names.js'
import { githubArtifacts, githubRunner, watchProcess } from './github.js'
import { parseSettings } from './inputs/settings.js'
import { runPipeline } from './pipeline.js'
import { systemClock } from './support/clock.js'
import { finalMessage } from './support/failure.js'
import { createHttp, type Http } from './support/http.js'
import { tokenSecrets } from './support/secrets.js'
import { freeBytesAt } from './transfer/disk.js'

type Env = Record<string, string | undefined>

/** Builds the ports from the real runner and runs the pipeline; every failure ends here. */
export async function run(env: Env = process.env): Promise<void> {
  const runner = githubRunner(env)
  // Masked before anything else runs, in every form it could take in a log.
  const secrets = tokenSecrets((env[inputEnvName(Inputs.Token)] ?? '').trim())
  for (const secret of secrets) runner.setSecret(secret)
  const lifetime = watchProcess()
  let http: (Http & { dispose(): void }) | undefined
  try {
    const settings = parseSettings(env, process.cwd())
    // The socket timeout catches a host that never answers; a body that stops mid-way is caught
    // sooner, and named, by the downloader's own stall timer.
    http = createHttp({ socketTimeoutMs: settings.stallTimeoutMs * 2 })
    await runPipeline(settings, {
      http,
      clock: systemClock,
      runner,
      artifacts: githubArtifacts(env),
      signal: lifetime.signal,
      disk: { freeBytes: freeBytesAt }
    })
  } catch (error) {
    core.setFailed(finalMessage(error, secrets))
  } finally {
    http?.dispose()
    lifetime.dispose()
  }
}
