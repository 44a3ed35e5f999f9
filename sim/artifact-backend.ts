/**
 * A local stand-in for the GitHub Actions artifact service: Azurite's blob service for storage and a
 * small fake of the two Results twirp methods that @actions/artifact calls (CreateArtifact hands
 * out an Azurite SAS URL, FinalizeArtifact records the upload). Artifact mode uploads a real zip.
 */
import { spawn, type ChildProcess } from 'node:child_process'
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

// Azurite's well-known development account.
const ACCOUNT = 'devstoreaccount1'
const ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const CONTAINER = 'actions-results'
const SERVICE = '/twirp/github.actions.results.api.v1.ArtifactService'

export interface StoredArtifact {
  id: number
  name: string
  blobName: string
  size: number
  hash: string | undefined
  expiresAt: string | undefined
  finalized: boolean
}

export interface ArtifactBackend {
  /** The variables a runner gives an action: ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL, GITHUB_*. */
  env: Record<string, string>
  artifacts: Map<string, StoredArtifact>
  /** The uploaded zip, read back from blob storage. */
  download(name: string): Promise<Buffer>
  stop(): Promise<void>
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

export async function startArtifactBackend(): Promise<ArtifactBackend> {
  const location = mkdtempSync(path.join(tmpdir(), 'azurite-'))
  const azurite = await startAzurite(location)
  const blobEndpoint = `http://127.0.0.1:${azurite.port}/${ACCOUNT}`
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY)
  const service = new BlobServiceClient(blobEndpoint, credential)
  const container = service.getContainerClient(CONTAINER)
  await container.createIfNotExists()

  const runId = 'b1e1a5f0-0000-4000-8000-00000000run1'
  const jobId = 'b1e1a5f0-0000-4000-8000-00000000job1'
  const artifacts = new Map<string, StoredArtifact>()
  let nextId = 1000

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
        if (!req.headers.authorization?.startsWith('Bearer ')) {
          reply(401, { code: 'unauthenticated', msg: 'missing bearer token' })
          return
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
          string,
          unknown
        >
        const name = typeof body['name'] === 'string' ? body['name'] : ''
        if (
          body['workflow_run_backend_id'] !== runId ||
          body['workflow_job_run_backend_id'] !== jobId
        ) {
          reply(400, { code: 'invalid_argument', msg: 'unknown workflow run or job' })
          return
        }
        if (req.url === `${SERVICE}/CreateArtifact`) {
          if (artifacts.has(name)) {
            reply(409, {
              code: 'already_exists',
              msg: `an artifact with this name already exists on the workflow run`
            })
            return
          }
          const blobName = `${runId}/${jobId}/${name}.zip`
          const sas = generateBlobSASQueryParameters(
            {
              containerName: CONTAINER,
              blobName,
              permissions: BlobSASPermissions.parse('cw'),
              expiresOn: new Date(Date.now() + 3600_000)
            },
            credential
          ).toString()
          const expires = body['expires_at']
          artifacts.set(name, {
            id: 0,
            name,
            blobName,
            size: 0,
            hash: undefined,
            expiresAt: typeof expires === 'string' ? expires : undefined,
            finalized: false
          })
          reply(200, {
            ok: true,
            signed_upload_url: `${blobEndpoint}/${CONTAINER}/${blobName}?${sas}`
          })
          return
        }
        if (req.url === `${SERVICE}/FinalizeArtifact`) {
          const artifact = artifacts.get(name)
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
        reply(404, { code: 'bad_route', msg: `no handler for ${req.url ?? ''}` })
      } catch (error) {
        reply(500, { code: 'internal', msg: String(error) })
      }
    })
  })
  await new Promise<void>(resolve => twirp.listen(0, '127.0.0.1', resolve))
  const twirpPort = (twirp.address() as AddressInfo).port

  const token = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({
    scp: `Actions.ExampleScope Actions.Results:${runId}:${jobId}`
  })}.c2lnbmF0dXJl`

  return {
    env: {
      ACTIONS_RUNTIME_TOKEN: token,
      ACTIONS_RESULTS_URL: `http://127.0.0.1:${twirpPort}/`,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'octo-org/weekly-data',
      GITHUB_RUN_ID: '4242'
    },
    artifacts,
    download: async name => {
      const artifact = artifacts.get(name)
      if (!artifact) throw new Error(`no artifact named ${name}`)
      return container.getBlobClient(artifact.blobName).downloadToBuffer()
    },
    stop: async () => {
      twirp.closeAllConnections()
      await new Promise(resolve => twirp.close(resolve))
      await azurite.stop()
      rmSync(location, { recursive: true, force: true })
    }
  }
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
