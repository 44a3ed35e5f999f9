/**
 * Starts the Datafiniti simulator with one sample download request and keeps it running until
 * SIGINT/SIGTERM, so that a workflow (or you) can run the action against it with `uses: ./`:
 *
 *   npx tsx scripts/serve-sim.ts --write-env "$RUNNER_TEMP/sim.env" &
 *
 * Once the simulator listens, the script writes `NAME=value` lines to --write-env (append them to
 * $GITHUB_ENV), and the expected content of the result files, in `sha256sum -c` format, to
 * --sums-file (default: beside the env file, `<env-file>.sha256`):
 *
 *   SIM_API_URL        base URL of the simulated API (the action's api-url)
 *   SIM_TOKEN          the token the simulator accepts (a fixed test value, not a secret)
 *   SIM_REQUEST_ID     id of the sample request
 *   SIM_FILE_COUNT     number of result files
 *   SIM_RECORD_COUNT   records in them (CSV data rows)
 *   SIM_TOTAL_BYTES    their total size
 *   SIM_SHA256SUMS     path of the sums file
 *   SIM_PID            this process, to stop it with `kill "$SIM_PID"`
 *
 * The env file is written in one go, to a temporary name renamed into place, so a step that waits
 * for it never reads half of it.
 *
 * --artifact-backend also starts the local artifact backend (Azurite and a fake Results service)
 * and adds the variables a runner would give the action (ACTIONS_RUNTIME_TOKEN,
 * ACTIONS_RESULTS_URL, GITHUB_*), for artifact mode outside GitHub. On a GitHub-hosted runner leave
 * it out: the runner's own artifact service is the real thing.
 */
import { renameSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { startArtifactBackend, type ArtifactBackend } from '../sim/artifact-backend.js'
import { awkwardCsv, jsonLines, sha256 } from '../sim/data.js'
import { bufferBody, startSimulator } from '../sim/simulator.js'

const { values } = parseArgs({
  options: {
    'write-env': { type: 'string' },
    'sums-file': { type: 'string' },
    'request-id': { type: 'string', default: '6073' },
    'artifact-backend': { type: 'boolean', default: false }
  }
})

const envFile = values['write-env']
if (!envFile) {
  console.error(
    'usage: tsx scripts/serve-sim.ts --write-env FILE [--sums-file FILE] [--request-id N] [--artifact-backend]'
  )
  process.exit(2)
}
const sumsFile = path.resolve(values['sums-file'] ?? `${envFile}.sha256`)
const requestId = Number(values['request-id'])
if (!Number.isSafeInteger(requestId) || requestId <= 0) {
  console.error(`--request-id must be a positive integer, got ${values['request-id']}`)
  process.exit(2)
}

const TOKEN = 'sim_token_e2e_0123456789'

// CSV with every awkward case (quoted commas and line breaks), CRLF line ends, a one-row file and a
// larger one, so the record count and the checksums mean something.
const files = [
  { name: `${requestId}_1.csv`, data: awkwardCsv(2_500, 21) },
  { name: `${requestId}_2.csv`, data: awkwardCsv(1_200, 22, '\r\n') },
  { name: `${requestId}_3.csv`, data: awkwardCsv(1, 23) }
]
const records = files.reduce((sum, file) => sum + file.data.records, 0)

const sim = await startSimulator({
  token: TOKEN,
  requests: [
    {
      id: requestId,
      numRequested: records,
      pollsUntilComplete: 2,
      resultsNotReady: 1,
      files: files.map(file => ({ name: file.name, body: bufferBody(file.data.body) }))
    },
    // A JSON-lines request too, for trying the other format by hand.
    {
      id: requestId + 1,
      dataFormat: 'json',
      files: [{ name: `${requestId + 1}_1.json`, body: bufferBody(jsonLines(300, 24).body) }]
    }
  ]
})

let backend: ArtifactBackend | undefined
try {
  if (values['artifact-backend']) backend = await startArtifactBackend()
} catch (error) {
  await sim.stop()
  throw error
}

const env: Record<string, string> = {
  SIM_API_URL: sim.apiUrl,
  SIM_TOKEN: TOKEN,
  SIM_REQUEST_ID: String(requestId),
  SIM_FILE_COUNT: String(files.length),
  SIM_RECORD_COUNT: String(records),
  SIM_TOTAL_BYTES: String(files.reduce((sum, file) => sum + file.data.body.length, 0)),
  SIM_SHA256SUMS: sumsFile,
  SIM_PID: String(process.pid),
  ...backend?.env
}

writeFileSync(sumsFile, files.map(file => `${sha256(file.data.body)}  ${file.name}\n`).join(''))
const temporary = `${envFile}.${process.pid}.tmp`
writeFileSync(
  temporary,
  Object.entries(env)
    .map(([name, value]) => `${name}=${value}\n`)
    .join('')
)
renameSync(temporary, envFile)
console.log(`Datafiniti simulator at ${sim.apiUrl}, request ${requestId} (${records} records)`)
if (backend) console.log(`artifact backend at ${backend.env['ACTIONS_RESULTS_URL'] ?? ''}`)

let stopping = false
async function stop(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  console.log(`${signal}: stopping (${sim.log.length} requests served)`)
  await Promise.all([sim.stop(), backend?.stop()])
  process.exit(0)
}
process.on('SIGINT', () => void stop('SIGINT'))
process.on('SIGTERM', () => void stop('SIGTERM'))
// The servers keep the event loop alive until a signal arrives.
