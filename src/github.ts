import * as core from '@actions/core'
import { artifactBlocker, uploadArtifact } from './deliver/artifact.js'
import { FatalError } from './support/errors.js'
import type { Artifacts, Runner } from './ports.js'
import { registerSecret } from './support/secrets.js'
import { safeLine } from './support/text.js'

type Env = Record<string, string | undefined>

/** The real runner: workflow commands through @actions/core. */
export function githubRunner(env: Env): Runner {
  return {
    // core.info prints the line raw, where a workflow command would run: the last guard against
    // text from outside that reached a message unsanitised.
    info: message => core.info(safeLine(message)),
    warning: message => core.warning(message),
    debug: message => core.debug(message),
    group: (name, fn) => core.group(name, fn),
    setOutput: (name, value) => core.setOutput(name, value),
    setSecret: secret => {
      core.setSecret(secret)
      // Also out of our own error messages, whatever library text carries it.
      registerSecret(secret)
    },
    summary: async markdown => {
      if (env['GITHUB_STEP_SUMMARY']) await core.summary.addRaw(markdown).write()
    }
  }
}

/** The real artifact service, through @actions/artifact. */
export function githubArtifacts(env: Env): Artifacts {
  return {
    blocker: () => artifactBlocker(env),
    upload: (name, files, root, options) => uploadArtifact(name, files, root, options, env)
  }
}

/**
 * The process around the run: SIGINT and SIGTERM (a cancelled job) abort it; Node leaving with the
 * run unsettled, with nothing left to wait for, is a failure, never a silent success.
 */
export function watchProcess(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals): void => {
    controller.abort(
      new FatalError(`Cancelled by ${signal}: stopped downloads and removed partial files.`)
    )
  }
  const onStall = (): void => {
    core.setFailed(
      'The action stopped before it finished, with nothing left to wait for. This is a bug: please report it.'
    )
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.once('beforeExit', onStall)
  return {
    signal: controller.signal,
    dispose: () => {
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
      process.removeListener('beforeExit', onStall)
    }
  }
}
