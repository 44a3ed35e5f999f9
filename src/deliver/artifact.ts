import { FatalError } from '../support/errors.js'
import type { ArtifactResult } from '../domain/download.js'
import { Inputs } from '../domain/names.js'

export interface ArtifactOptions {
  retentionDays: number | undefined
  compressionLevel: number
}

type Env = Record<string, string | undefined>

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
    return (
      `Artifact upload needs the GitHub Actions runtime (ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL), ` +
      `which this environment does not provide: it is not a GitHub Actions job step. ${alternative}`
    )
  }
  return undefined
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
  const response = await client.uploadArtifact(name, [...files], rootDirectory, {
    compressionLevel: options.compressionLevel,
    ...(options.retentionDays !== undefined ? { retentionDays: options.retentionDays } : {})
  })
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
