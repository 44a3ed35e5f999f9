import type { Env } from '../domain/action-io.js'
import { existsSync, statSync } from 'node:fs'
import { FatalError, errorMessage } from '../support/errors.js'
import { Inputs } from '../domain/action-io.js'

export interface ArtifactResult {
  id: number
  size: number | undefined
  digest: string | undefined
  /** As actions/upload-artifact builds it; undefined outside a workflow run. */
  url: string | undefined
}

/** The workflow artifact service (the artifacts port). */
export interface Artifacts {
  /** Why artifacts cannot be uploaded here, or undefined when they can. */
  blocker(): string | undefined
  /** The id of the artifact of this name already on the workflow run, or undefined. */
  find(name: string): Promise<number | undefined>
  /** Deletes the artifact of this name from the workflow run; returns its id. */
  remove(name: string): Promise<number>
  upload(
    name: string,
    files: readonly string[],
    rootDirectory: string,
    options: ArtifactOptions
  ): Promise<ArtifactResult>
}

export interface ArtifactOptions {
  retentionDays: number | undefined
  compressionLevel: number
}

/** Same rule as @actions/artifact: github.com, *.ghe.com and *.localhost are not GHES. */
export function isGhes(env: Env): boolean {
  let host: string
  try {
    host = new URL(env['GITHUB_SERVER_URL'] || 'https://github.com').hostname.toLowerCase()
  } catch {
    return false
  }
  return host !== 'github.com' && !host.endsWith('.ghe.com') && !host.endsWith('.localhost')
}

/**
 * Why artifact mode cannot run here, or undefined when it can: checked before anything is
 * downloaded, so a run never spends an hour waiting only to fail at the upload.
 */
export function artifactBlocker(env: Env): string | undefined {
  const alternative =
    `Use '${Inputs.Mode}: files' and upload '${Inputs.Path}' with a step of your own ` +
    `(for GHES, actions/upload-artifact@v3 or another store).`
  if (isGhes(env)) {
    return `Artifact upload is not supported on GitHub Enterprise Server (${env['GITHUB_SERVER_URL'] ?? ''}). ${alternative}`
  }
  if (!env['ACTIONS_RUNTIME_TOKEN'] || !env['ACTIONS_RESULTS_URL']) {
    if (underLocalAction(env)) return localStoreProblem(env['LOCAL_ACTION_ARTIFACT_PATH'] ?? '')
    return (
      `Artifact upload needs the GitHub Actions runtime (ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL), ` +
      `which this environment does not provide: it is not a GitHub Actions job step. ${alternative}`
    )
  }
  return undefined
}

/**
 * @github/local-action runs the action from src/ with @actions/artifact swapped for its own stub,
 * which keeps artifacts in LOCAL_ACTION_ARTIFACT_PATH and needs no runtime token. Its launcher
 * sets TARGET_ACTION_PATH, and its stub refuses to work without LOCAL_ACTION_ARTIFACT_PATH: both
 * say that the stub, not the real service, will take the upload. Only asked where the runtime
 * token is missing, so a real runner is checked exactly as before.
 */
function underLocalAction(env: Env): boolean {
  return Boolean(env['TARGET_ACTION_PATH'] && env['LOCAL_ACTION_ARTIFACT_PATH'])
}

function localStoreProblem(store: string): string | undefined {
  if (!existsSync(store) || !statSync(store).isDirectory()) {
    return `@github/local-action keeps artifacts in LOCAL_ACTION_ARTIFACT_PATH, which is not a directory (${store}): create it or set it in the .env file.`
  }
  return undefined
}

/** The name is taken on the run: what the user can do about it. */
export function artifactClash(name: string): string {
  return (
    `An artifact named '${name}' is already on this workflow run (from an earlier attempt of a ` +
    `re-run, or another step). Set '${Inputs.Overwrite}: true' to replace it, or give another ` +
    `'${Inputs.ArtifactName}'.`
  )
}

/** The id of the newest artifact of this name on the workflow run, or undefined. */
export async function findArtifact(name: string): Promise<number | undefined> {
  const { DefaultArtifactClient } = await import('@actions/artifact')
  const { artifacts } = await new DefaultArtifactClient().listArtifacts({ latest: true })
  return artifacts.find(artifact => artifact.name === name)?.id
}

/** Deletes the artifact of this name from the workflow run; returns its id. */
export async function deleteArtifact(name: string): Promise<number> {
  const { DefaultArtifactClient } = await import('@actions/artifact')
  const { id } = await new DefaultArtifactClient().deleteArtifact(name)
  return id
}

/** Uploads the files as one artifact; @actions/artifact and its Azure SDK load only here. */
export async function uploadArtifact(
  name: string,
  files: readonly string[],
  rootDirectory: string,
  options: ArtifactOptions,
  env: Env
): Promise<ArtifactResult> {
  const { DefaultArtifactClient } = await import('@actions/artifact')
  const client = new DefaultArtifactClient()
  let response: Awaited<ReturnType<typeof client.uploadArtifact>>
  try {
    response = await client.uploadArtifact(name, [...files], rootDirectory, {
      compressionLevel: options.compressionLevel,
      ...(options.retentionDays !== undefined ? { retentionDays: options.retentionDays } : {})
    })
  } catch (error) {
    // The service's 409: another step or job took the name since the check before the download.
    if (/\(409\)|already exists/i.test(errorMessage(error))) {
      throw new FatalError(artifactClash(name), { cause: error })
    }
    throw error
  }
  if (response.id === undefined) {
    throw new FatalError(`The artifact service did not return an id for artifact '${name}'.`)
  }
  return {
    id: response.id,
    size: response.size,
    digest: response.digest,
    url: artifactUrl(env, response.id)
  }
}

export function artifactUrl(env: Env, id: number): string | undefined {
  const server = (env['GITHUB_SERVER_URL'] || 'https://github.com').replace(/\/+$/, '')
  const repository = env['GITHUB_REPOSITORY']
  const runId = env['GITHUB_RUN_ID']
  if (!repository || !runId) return undefined
  return `${server}/${repository}/actions/runs/${runId}/artifacts/${id}`
}
