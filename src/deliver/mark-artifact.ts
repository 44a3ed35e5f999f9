import type { Env } from '../domain/action-io.js'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { Inputs } from '../domain/action-io.js'
import type { Http } from '../http/transport.js'
import type { Artifacts } from './artifact.js'

const FILE = 'mark.json'

interface ListedArtifact {
  id?: unknown
  name?: unknown
  expired?: unknown
  created_at?: unknown
  workflow_run?: { id?: unknown } | null
}

/**
 * The durable copy of a `since: last-success` mark: a one-file workflow artifact that every
 * successful run uploads, found again through the GitHub REST API by its name across the
 * repository's runs (newest first, expired ones skipped) and read with `github-token`, which needs
 * `actions: read`. Returns the mark's JSON, or undefined when no unexpired artifact holds one.
 */
export async function readMarkArtifact(
  name: string,
  env: Env,
  http: Http,
  token: string
): Promise<unknown> {
  const repository = env['GITHUB_REPOSITORY'] ?? ''
  const [owner = '', repo = ''] = repository.split('/')
  if (!owner || !repo) throw new Error('not a workflow run (GITHUB_REPOSITORY is not set)')
  if (!token) throw new Error(`'${Inputs.GithubToken}' is empty`)
  const api = (env['GITHUB_API_URL'] || 'https://api.github.com').replace(/\/+$/, '')
  const url = `${api}/repos/${owner}/${repo}/actions/artifacts?name=${encodeURIComponent(name)}&per_page=30`
  const answer = await http.getText(url, {
    Accept: 'application/vnd.github+json',
    Authorization: `Bearer ${token}`,
    'X-GitHub-Api-Version': '2022-11-28'
  })
  if (answer.status === 401 || answer.status === 403 || answer.status === 404) {
    throw new Error(
      `the GitHub API answered ${answer.status} to listing the repository's artifacts: ` +
        `'${Inputs.GithubToken}' needs 'actions: read'`
    )
  }
  if (answer.status !== 200) {
    throw new Error(
      `the GitHub API answered ${answer.status} to listing the repository's artifacts`
    )
  }
  const listed = (JSON.parse(answer.text) as { artifacts?: ListedArtifact[] }).artifacts ?? []
  const newest = listed
    .filter(a => a.name === name && a.expired !== true && typeof a.id === 'number')
    .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)))[0]
  const runId = newest?.workflow_run?.id
  if (!newest || typeof runId !== 'number') return undefined

  const dir = await mkdtemp(path.join(env['RUNNER_TEMP'] || tmpdir(), 'datafiniti-mark-'))
  try {
    const { DefaultArtifactClient } = await import('@actions/artifact')
    await new DefaultArtifactClient().downloadArtifact(newest.id as number, {
      path: dir,
      findBy: { token, workflowRunId: runId, repositoryOwner: owner, repositoryName: repo }
    })
    return JSON.parse(await readFile(path.join(dir, FILE), 'utf8')) as unknown
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Uploads the mark as this run's artifact `name`, replacing one an earlier attempt left. */
export async function writeMarkArtifact(
  name: string,
  mark: object,
  env: Env,
  artifacts: Artifacts
): Promise<void> {
  const blocked = artifacts.blocker()
  if (blocked !== undefined) throw new Error(blocked)
  const dir = await mkdtemp(path.join(env['RUNNER_TEMP'] || tmpdir(), 'datafiniti-mark-'))
  try {
    const file = path.join(dir, FILE)
    await writeFile(file, `${JSON.stringify(mark)}\n`)
    if ((await artifacts.find(name)) !== undefined) await artifacts.remove(name)
    // The repository's retention (90 days unless changed): longer than any schedule's gap.
    await artifacts.upload(name, [file], dir, { retentionDays: undefined, compressionLevel: 6 })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
