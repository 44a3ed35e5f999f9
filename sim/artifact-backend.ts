/**
 * A local stand-in for the GitHub Actions Results service: Azurite's blob service for storage and a
 * small fake of the twirp methods that @actions/artifact calls (CreateArtifact hands out an Azurite
 * SAS URL, FinalizeArtifact records the upload, ListArtifacts, DeleteArtifact,
 * GetSignedArtifactURL), with the real service's 409 `already_exists` for a name taken on the run
 * by any of its jobs or attempts; and the cache service v2 that @actions/cache calls
 * (cache-service.ts). Artifact mode uploads a real zip.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import {
  BlobSASPermissions,
  BlobServiceClient,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters
} from '@azure/storage-blob'
import AdmZip from 'adm-zip'
import { CACHE_SERVICE, createCacheService } from './cache-service.js'
import { handleRest, type RestArtifact, type TokenAccess } from './github-rest.js'

// Azurite's well-known development account.
const ACCOUNT = 'devstoreaccount1'
const ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const CONTAINER = 'actions-results'
const SERVICE = '/twirp/github.actions.results.api.v1.ArtifactService'
const DAY_MS = 86_400_000
/** GitHub's default artifact retention. */
const RETENTION_DAYS = 90

/** Tokens the REST API knows: `github.token` with `actions: read`, and one without. */
export const GITHUB_TOKEN = 'ghs_simActionsRead0123456789'
export const GITHUB_TOKEN_NO_ACTIONS = 'ghs_simNoActions0123456789'

export interface StoredArtifact {
  id: number
  name: string
  blobName: string
  /** The job (and attempt) that uploaded it. */
  jobBackendId: string
  size: number
  hash: string | undefined
  expiresAt: string | undefined
  createdAt: string
  finalized: boolean
}

/** Which run, job and attempt a runtime token is for: as a runner gives it, per job attempt. */
export interface JobRun {
  /** GITHUB_RUN_ID; default 4242. */
  runId?: string
  /** GITHUB_JOB; default `fetch`. */
  job?: string
  /** GITHUB_RUN_ATTEMPT; default 1. */
  attempt?: number
}

export interface ArtifactBackend {
  /** The variables a runner gives an action: ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL, GITHUB_*. */
  env: Record<string, string>
  /** The same for another job or attempt of this run, or another run. */
  envFor(jobRun: JobRun): Record<string, string>
  /** The artifacts of the default run (4242), by name, across its jobs and attempts. */
  artifacts: Map<string, StoredArtifact>
  /** Every Results twirp call, as `Service/Method name-or-key`. */
  calls: string[]
  /** The Actions cache (service v2) on the same Results service. */
  cache: ReturnType<typeof createCacheService>['state']
  /**
   * While true, every ListArtifacts call is refused (403, which the toolkit does not retry), as
   * for a token that may upload but not list: the action must warn and go on.
   */
  failListing: boolean
  /** The uploaded zip, read back from blob storage. */
  download(name: string): Promise<Buffer>
  /** Tokens the REST API takes, and what they may do (add or change some to model permissions). */
  githubTokens: Map<string, TokenAccess>
  /** Every REST call, as `GET /path?query`. */
  restCalls: string[]
  /** The services' clock is this far ahead of the real one: what the REST API sees as expired. */
  clock: { offsetMs: number }
  /** Every finalized artifact of every run, as the REST API lists them. */
  allArtifacts(): RestArtifact[]
  /** Puts an artifact made elsewhere (a zip of `files`) on run `runId`, as of `createdAt`. */
  seedArtifact(seed: {
    runId: string
    name: string
    files: Record<string, string>
    createdAt: Date
    retentionDays?: number
  }): Promise<RestArtifact>
  stop(): Promise<void>
}

const REPOSITORY = 'octo-org/weekly-data'

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** A stable UUID-shaped backend id for a run or a job attempt, as the runner's token carries. */
function backendId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('/')).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** The `Actions.Results:<run>:<job>` scope of a bearer token, as the toolkit reads it. */
function scopeOf(authorization: string | undefined): { run: string; job: string } | undefined {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? ''
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      scp?: string
    }
    for (const scope of (claims.scp ?? '').split(' ')) {
      const [name, run, job] = scope.split(':')
      if (name === 'Actions.Results' && run && job) return { run, job }
    }
  } catch {
    return undefined
  }
  return undefined
}

export async function startArtifactBackend(): Promise<ArtifactBackend> {
  const location = mkdtempSync(path.join(tmpdir(), 'azurite-'))
  const azurite = await startAzurite(location)
  const blobEndpoint = `http://127.0.0.1:${azurite.port}/${ACCOUNT}`
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY)
  const service = new BlobServiceClient(blobEndpoint, credential)
  const container = service.getContainerClient(CONTAINER)
  await container.createIfNotExists()

  const sign = (blobName: string, permissions: 'cw' | 'r'): string => {
    const sas = generateBlobSASQueryParameters(
      {
        containerName: CONTAINER,
        blobName,
        permissions: BlobSASPermissions.parse(permissions),
        expiresOn: new Date(Date.now() + 3600_000)
      },
      credential
    ).toString()
    return `${blobEndpoint}/${CONTAINER}/${blobName}?${sas}`
  }
  const cache = createCacheService(sign)
  const calls: string[] = []
  // Filled in once the service listens; the handlers read its knobs (failListing) as they change.
  const backend = { failListing: false } as ArtifactBackend
  /** Artifacts by run backend id, then by name: a name is unique within a run. */
  const runs = new Map<string, Map<string, StoredArtifact>>()
  const artifactsOf = (run: string): Map<string, StoredArtifact> => {
    const found = runs.get(run) ?? new Map<string, StoredArtifact>()
    runs.set(run, found)
    return found
  }
  const defaultRun = backendId('run', '4242')
  let nextId = 1000
  const clock = { offsetMs: 0 }
  const now = (): number => Date.now() + clock.offsetMs
  /** GITHUB_RUN_ID by run backend id. */
  const runIdOf = new Map<string, string>([[defaultRun, '4242']])
  const githubTokens = new Map<string, TokenAccess>([
    [GITHUB_TOKEN, 'actions-read'],
    [GITHUB_TOKEN_NO_ACTIONS, 'none']
  ])
  const restCalls: string[] = []
  const allArtifacts = (): RestArtifact[] =>
    [...runs].flatMap(([run, artifacts]) =>
      [...artifacts.values()]
        .filter(a => a.finalized)
        .map(a => ({
          id: a.id,
          name: a.name,
          size: a.size,
          runId: runIdOf.get(run) ?? '0',
          createdAt: a.createdAt,
          expiresAt:
            a.expiresAt ??
            new Date(Date.parse(a.createdAt) + RETENTION_DAYS * DAY_MS).toISOString(),
          blobName: a.blobName
        }))
    )

  const handleArtifacts = (
    method: string,
    body: Record<string, unknown>,
    scope: { run: string; job: string },
    reply: (status: number, body: object) => void
  ): void => {
    const name = typeof body['name'] === 'string' ? body['name'] : ''
    const filter = body['name_filter']
    calls.push(`ArtifactService/${method} ${name || (typeof filter === 'string' ? filter : '')}`)
    const run = body['workflow_run_backend_id']
    // Delete names the job that uploaded the artifact, which may be another job of the run.
    if (
      run !== scope.run ||
      (method !== 'DeleteArtifact' && body['workflow_job_run_backend_id'] !== scope.job)
    ) {
      reply(403, {
        code: 'permission_denied',
        msg: 'the token is not for this workflow run or job'
      })
      return
    }
    const artifacts = artifactsOf(scope.run)
    if (method === 'CreateArtifact') {
      if (artifacts.has(name)) {
        reply(409, {
          code: 'already_exists',
          msg: 'an artifact with this name already exists on the workflow run'
        })
        return
      }
      const blobName = `${scope.run}/${scope.job}/${name}.zip`
      const expires = body['expires_at']
      artifacts.set(name, {
        id: 0,
        name,
        blobName,
        jobBackendId: scope.job,
        size: 0,
        hash: undefined,
        expiresAt: typeof expires === 'string' ? expires : undefined,
        createdAt: new Date(now()).toISOString(),
        finalized: false
      })
      reply(200, { ok: true, signed_upload_url: sign(blobName, 'cw') })
      return
    }
    const artifact = artifacts.get(name)
    if (method === 'FinalizeArtifact') {
      if (!artifact) {
        reply(404, { code: 'not_found', msg: 'artifact not found' })
        return
      }
      const hash = body['hash']
      artifact.id = nextId++
      artifact.size = Number(body['size'] ?? 0)
      artifact.hash = typeof hash === 'string' ? hash : undefined
      artifact.finalized = true
      reply(200, { ok: true, artifact_id: String(artifact.id) })
      return
    }
    if (method === 'ListArtifacts' && backend.failListing) {
      reply(403, { code: 'permission_denied', msg: 'simulated: this token may not list artifacts' })
      return
    }
    if (method === 'ListArtifacts') {
      // Every finalized artifact of the run, whichever job or attempt uploaded it.
      const listed = [...artifacts.values()].filter(
        a => a.finalized && (typeof filter !== 'string' || a.name === filter)
      )
      reply(200, {
        artifacts: listed.map(a => ({
          workflow_run_backend_id: scope.run,
          workflow_job_run_backend_id: a.jobBackendId,
          database_id: String(a.id),
          name: a.name,
          size: String(a.size),
          created_at: a.createdAt,
          ...(a.hash ? { digest: a.hash } : {})
        }))
      })
      return
    }
    if (method === 'DeleteArtifact' || method === 'GetSignedArtifactURL') {
      if (!artifact?.finalized) {
        reply(404, { code: 'not_found', msg: 'artifact not found' })
        return
      }
      if (method === 'GetSignedArtifactURL') {
        reply(200, { signed_url: sign(artifact.blobName, 'r') })
        return
      }
      artifacts.delete(name)
      reply(200, { ok: true, artifact_id: String(artifact.id) })
      return
    }
    reply(404, { code: 'bad_route', msg: `no handler for ArtifactService/${method}` })
  }

  const twirp = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const reply = (status: number, body: object): void => {
        const text = JSON.stringify(body)
        res.writeHead(status, { 'Content-Type': 'application/json' })
        res.end(text)
      }
      try {
        if (!(req.url ?? '').startsWith('/twirp/')) {
          handleRest(req, res, {
            repository: REPOSITORY,
            tokens: githubTokens,
            artifacts: allArtifacts,
            now,
            signBlob: blobName => sign(blobName, 'r'),
            calls: restCalls
          })
          return
        }
        const scope = scopeOf(req.headers.authorization)
        if (!scope) {
          reply(401, { code: 'unauthenticated', msg: 'missing or malformed bearer token' })
          return
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
          string,
          unknown
        >
        const url = req.url ?? ''
        if (url.startsWith(`${SERVICE}/`)) {
          handleArtifacts(url.slice(SERVICE.length + 1), body, scope, reply)
        } else if (url.startsWith(`${CACHE_SERVICE}/`)) {
          calls.push(`CacheService/${url.slice(CACHE_SERVICE.length + 1)} ${String(body['key'])}`)
          cache.handle(url.slice(CACHE_SERVICE.length + 1), body, reply)
        } else {
          reply(404, { code: 'bad_route', msg: `no handler for ${url}` })
        }
      } catch (error) {
        reply(500, { code: 'internal', msg: String(error) })
      }
    })
  })
  await new Promise<void>(resolve => twirp.listen(0, '127.0.0.1', resolve))
  const twirpPort = (twirp.address() as AddressInfo).port

  const envFor = ({
    runId = '4242',
    job = 'fetch',
    attempt = 1
  }: JobRun): Record<string, string> => {
    const run = backendId('run', runId)
    runIdOf.set(run, runId)
    const jobRun = backendId('job', runId, job, String(attempt))
    const token = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({
      scp: `Actions.ExampleScope Actions.Results:${run}:${jobRun}`
    })}.c2lnbmF0dXJl`
    return {
      ACTIONS_RUNTIME_TOKEN: token,
      ACTIONS_RESULTS_URL: `http://127.0.0.1:${twirpPort}/`,
      ACTIONS_CACHE_SERVICE_V2: 'True',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: `http://127.0.0.1:${twirpPort}`,
      GITHUB_REPOSITORY: REPOSITORY,
      GITHUB_RUN_ID: runId,
      GITHUB_RUN_ATTEMPT: String(attempt),
      GITHUB_JOB: job
    }
  }

  Object.assign(backend, {
    env: envFor({}),
    envFor,
    artifacts: artifactsOf(defaultRun),
    calls,
    cache: cache.state,
    githubTokens,
    restCalls,
    clock,
    allArtifacts,
    seedArtifact: async ({ runId, name, files, createdAt, retentionDays = RETENTION_DAYS }) => {
      const zip = new AdmZip()
      for (const [file, text] of Object.entries(files)) zip.addFile(file, Buffer.from(text))
      const body = zip.toBuffer()
      const run = backendId('run', runId)
      runIdOf.set(run, runId)
      const blobName = `${run}/seeded/${name}.zip`
      await container.getBlockBlobClient(blobName).uploadData(body)
      artifactsOf(run).set(name, {
        id: nextId++,
        name,
        blobName,
        jobBackendId: backendId('job', runId, 'seeded', '1'),
        size: body.length,
        hash: undefined,
        expiresAt: new Date(createdAt.getTime() + retentionDays * DAY_MS).toISOString(),
        createdAt: createdAt.toISOString(),
        finalized: true
      })
      const seeded = allArtifacts().find(a => a.blobName === blobName)
      if (!seeded) throw new Error('the seeded artifact is not listed')
      return seeded
    },
    download: async name => {
      const artifact = artifactsOf(defaultRun).get(name)
      if (!artifact) throw new Error(`no artifact named ${name}`)
      return container.getBlobClient(artifact.blobName).downloadToBuffer()
    },
    stop: async () => {
      twirp.closeAllConnections()
      await new Promise(resolve => twirp.close(resolve))
      await azurite.stop()
      rmSync(location, { recursive: true, force: true })
    }
  } satisfies Omit<ArtifactBackend, 'failListing'>)
  return backend
}

async function startAzurite(location: string): Promise<{ port: number; stop(): Promise<void> }> {
  const require = createRequire(import.meta.url)
  const main = path.join(
    path.dirname(require.resolve('azurite/package.json')),
    'dist/src/blob/main.js'
  )
  const child: ChildProcess = spawn(
    process.execPath,
    [
      main,
      '--skipApiVersionCheck',
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0'
    ],
    // Azurite may write small files beside it: keep them out of the work tree.
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: location }
  )
  const port = await new Promise<number>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(
      () => reject(new Error(`Azurite did not start in 30s: ${output}`)),
      30_000
    )
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new Error(`Azurite exited with ${code}: ${output}`))
    })
  })
  child.stdout?.resume()
  child.stderr?.resume()
  return {
    port,
    stop: () =>
      new Promise(resolve => {
        if (child.exitCode !== null) {
          resolve()
          return
        }
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
  }
}
