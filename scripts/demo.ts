/**
 * `npm run demo`: the whole action with no Datafiniti account. Starts the Datafiniti simulator and
 * the local artifact backend (Azurite + a fake of the Results service), runs the built
 * dist/index.js the way a runner does, and shows what a user would see.
 *
 *   npm run demo                       artifact mode (default), an existing request id
 *   npm run demo -- --mode files       files mode (also: --mode urls)
 *   npm run demo -- --query            create the download from a query first (API v3)
 *   npm run demo -- --query --api v4   the same through API v4
 */
import { readdirSync, statSync } from 'node:fs'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import AdmZip from 'adm-zip'
import { Inputs, Outputs } from '../src/domain/action-io.js'
import { startArtifactBackend, type ArtifactBackend } from '../sim/artifact-backend.js'
import { awkwardCsv } from '../sim/data.js'
import { runAction } from '../sim/runner.js'
import { bufferBody, startSimulator } from '../sim/simulator.js'

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'artifact' },
    query: { type: 'boolean', default: false },
    api: { type: 'string', default: 'v3' }
  }
})
const { mode, api } = values
const TOKEN = 'demo_token_0123456789'
const REQUEST_ID = 6073
const QUERY = 'country:US AND city:Austin AND propertyType:"Single Family Dwelling"'

const files = [awkwardCsv(12_000, 1), awkwardCsv(12_000, 2), awkwardCsv(4_321, 3)]
const named = (id: string | number) =>
  files.map((file, i) => ({ name: `${id}_${i + 1}.csv`, body: bufferBody(file.body) }))

function heading(text: string): void {
  process.stdout.write(`\n\x1b[1m== ${text} ==\x1b[0m\n`)
}

const sim = await startSimulator({
  token: TOKEN,
  requests: [
    {
      id: REQUEST_ID,
      numRequested: 28_321,
      pollsUntilComplete: 3,
      resultsNotReady: 1,
      files: named(REQUEST_ID)
    }
  ],
  queries: { [QUERY]: { numFound: 28_321, pollsUntilComplete: 3, files: named } }
})
const source: Record<string, string> = values.query
  ? {
      [Inputs.Query]: QUERY,
      [Inputs.DataType]: 'properties',
      [Inputs.NumRecords]: '30000',
      [Inputs.ApiVersion]: api
    }
  : { [Inputs.RequestId]: String(REQUEST_ID), [Inputs.ApiVersion]: api }

let backend: ArtifactBackend | undefined
try {
  if (mode === 'artifact') backend = await startArtifactBackend()
  heading(
    values.query
      ? `Datafiniti simulator at ${sim.apiUrl}: the action creates a download from a query (API ${api})`
      : `Datafiniti simulator at ${sim.apiUrl}: request ${REQUEST_ID} completes after 3 polls`
  )
  heading(`Running dist/index.js in ${mode} mode (what the workflow log shows)`)
  const run = await runAction({
    echo: true,
    env: backend?.env ?? {},
    inputs: {
      [Inputs.Token]: TOKEN,
      ...source,
      [Inputs.ApiUrl]: sim.apiUrl,
      [Inputs.Mode]: mode,
      [Inputs.PollInterval]: '1s'
    }
  })
  heading(`Exit code ${run.code}`)
  heading('Step outputs')
  for (const [name, value] of Object.entries(run.outputs)) {
    const shown =
      name === Outputs.Urls
        ? `${(JSON.parse(value) as string[]).length} signed URL(s), not shown (credentials)`
        : value
    process.stdout.write(`${name} = ${shown}\n`)
  }
  heading('Job summary (GITHUB_STEP_SUMMARY)')
  process.stdout.write(run.summary)
  const dir = run.outputs[Outputs.DownloadPath]
  if (mode !== 'urls' && dir) {
    heading(`Files on disk in ${dir}`)
    for (const name of readdirSync(dir)) {
      process.stdout.write(`${name}  ${statSync(path.join(dir, name)).size} bytes\n`)
    }
  }
  if (backend && run.code === 0) {
    const name = `datafiniti-${run.outputs[Outputs.RequestId] ?? ''}`
    const zip = await backend.download(name)
    heading(`Artifact '${name}' in the local artifact store (Azurite): ${zip.length} bytes zipped`)
    for (const entry of new AdmZip(zip).getEntries()) {
      process.stdout.write(`${entry.entryName}  ${entry.header.size} bytes\n`)
    }
  }
  if (run.code !== 0) process.exitCode = 1
} finally {
  await Promise.all([sim.stop(), backend?.stop()])
}
