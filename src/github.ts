import type { Env } from './domain/action-io.js'
import * as core from '@actions/core'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import * as path from 'node:path'
import {
  artifactBlocker,
  deleteArtifact,
  findArtifact,
  isGhes,
  uploadArtifact
} from './deliver/artifact.js'
import { FatalError } from './support/errors.js'
import type { RequestMemory } from './api/create-once.js'
import { asMark, type MarkStore } from './api/marks.js'
import { readMarkArtifact, writeMarkArtifact } from './deliver/mark-artifact.js'
import type { Http } from './http/transport.js'
import type { Artifacts } from './deliver/artifact.js'
import type { Runner } from './support/log.js'
import { registerSecret } from './support/secrets.js'
import { safeLine } from './support/text.js'

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
    find: findArtifact,
    remove: deleteArtifact,
    upload: (name, files, root, options) => uploadArtifact(name, files, root, options, env)
  }
}

/**
 * The Actions cache (@actions/cache, loaded only here) as the memory of created requests: one small
 * file per key. The path is given with `~` so that the cache version, a hash of the path as
 * written, is the same on every runner of the same kind.
 */
export function githubRequestMemory(env: Env): RequestMemory {
  const pattern = (key: string): string => `~/.cache/datafiniti-requests/${key}.json`
  const file = (key: string): string =>
    path.join(homedir(), '.cache', 'datafiniti-requests', `${key}.json`)
  return {
    unavailable: () => cacheUnavailable(env),
    recall: async key => {
      const { restoreCache } = await import('@actions/cache')
      try {
        // Prefix matches are for restore keys; only this exact key is this step's request.
        if ((await restoreCache([pattern(key)], key)) !== key) return undefined
        const saved = JSON.parse(await readFile(file(key), 'utf8')) as { requestId?: unknown }
        return typeof saved.requestId === 'string' ? saved.requestId : undefined
      } finally {
        await rm(file(key), { force: true })
      }
    },
    remember: async (key, requestId) => {
      const { saveCache } = await import('@actions/cache')
      await mkdir(path.dirname(file(key)), { recursive: true })
      await writeFile(file(key), JSON.stringify({ requestId, savedAt: new Date().toISOString() }))
      try {
        if ((await saveCache([pattern(key)], key)) === -1) {
          throw new Error('the cache service did not store it')
        }
      } finally {
        await rm(file(key), { force: true })
      }
    }
  }
}

function cacheUnavailable(env: Env): string | undefined {
  const v2 = Boolean(env['ACTIONS_CACHE_SERVICE_V2']) && !isGhes(env)
  const url = v2 ? env['ACTIONS_RESULTS_URL'] : env['ACTIONS_CACHE_URL']
  return env['ACTIONS_RUNTIME_TOKEN'] && url ? undefined : 'no Actions cache service here'
}

/**
 * The `since: last-success` mark: in the Actions cache under a key of its own per run (entries are
 * immutable; a prefix restore finds the newest), and as a small artifact that outlives the cache's
 * 7-day eviction, read back through the REST API with `github-token`.
 */
export function githubMarks(env: Env, http: Http, githubToken: string): MarkStore {
  const pattern = '~/.cache/datafiniti-marks/mark.json'
  const file = path.join(homedir(), '.cache', 'datafiniti-marks', 'mark.json')
  const artifacts = githubArtifacts(env)
  return {
    cacheUnavailable: () => cacheUnavailable(env),
    fromCache: async scope => {
      const { restoreCache } = await import('@actions/cache')
      try {
        const key = `${scope.name}-${scope.runId}-${scope.runAttempt}`
        if ((await restoreCache([pattern], key, [`${scope.name}-`])) === undefined) return undefined
        return asMark(JSON.parse(await readFile(file, 'utf8')))
      } finally {
        await rm(file, { force: true })
      }
    },
    fromDurable: async scope =>
      asMark(await readMarkArtifact(scope.name, env, http, githubToken)) ?? undefined,
    toCache: async (scope, mark) => {
      const { saveCache } = await import('@actions/cache')
      await mkdir(path.dirname(file), { recursive: true })
      await writeFile(file, JSON.stringify(mark))
      try {
        const key = `${scope.name}-${scope.runId}-${scope.runAttempt}`
        if ((await saveCache([pattern], key)) === -1)
          throw new Error('the cache service did not store it')
      } finally {
        await rm(file, { force: true })
      }
    },
    toDurable: (scope, mark) => writeMarkArtifact(scope.name, mark, env, artifacts)
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
