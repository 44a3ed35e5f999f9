/**
 * The action from src/ under @github/local-action, GitHub's tool for running JavaScript actions on
 * a workstation, against the simulator: `npx local-action . src/main.ts .env`. The tool swaps
 * @actions/artifact for a stub that writes the zip into LOCAL_ACTION_ARTIFACT_PATH, with no
 * runtime token, so artifact mode must run there rather than refuse before trying.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { promisify } from 'node:util'
import AdmZip from 'adm-zip'
import { describe, expect, it } from 'vitest'
import { Inputs, inputEnvName } from '../../src/domain/action-io.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { ROOT } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import { expectFreeOf } from '../helpers/leaks.js'
import { useTempDir } from '../helpers/tmp.js'
import { useWorld } from '../helpers/world.js'

const TOKEN = 'tok_local_action_5d1e'
const csv = awkwardCsv(40, 91)

const world = useWorld({
  token: TOKEN,
  requests: [{ id: 601, files: [{ name: '601_1.csv', body: bufferBody(csv.body) }] }]
})
const tmp = useTempDir('local-action-')

describe('@github/local-action', () => {
  it('runs artifact mode from src/: the stub stores the artifact, no runtime token needed', async () => {
    const workspace = path.join(tmp.path, 'workspace')
    const artifacts = path.join(tmp.path, 'artifacts')
    mkdirSync(workspace)
    mkdirSync(artifacts)
    const dotenv = path.join(tmp.path, '.env')
    const inputs = { ...world.inputs({ [Inputs.RequestId]: '601' }) }
    writeFileSync(
      dotenv,
      [
        `LOCAL_ACTION_WORKSPACE=${workspace}`,
        `LOCAL_ACTION_ARTIFACT_PATH=${artifacts}`,
        `GITHUB_WORKSPACE=${workspace}`,
        ...Object.entries(inputs).map(([name, value]) => `${inputEnvName(name)}=${value}`)
      ].join('\n')
    )
    // Only what a workstation has: no ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL or GITHUB_*.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^(ACTIONS_|GITHUB_|INPUT_)/.test(name))
    )
    const { stdout } = await promisify(execFile)(
      'npx',
      ['--no-install', 'local-action', '.', 'src/main.ts', dotenv],
      { cwd: ROOT, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }
    )
    expect(stdout).not.toMatch(/::error::/)
    expect(stdout).toContain('::set-output name=status::COMPLETED')
    expect(stdout).toMatch(/Artifact datafiniti-601 uploaded: id \d+/)
    const zip = new AdmZip(readFileSync(path.join(artifacts, 'datafiniti-601.zip')))
    expect(zip.getEntries().map(entry => entry.entryName)).toContain('601_1.csv')
    expect(sha256(zip.getEntry('601_1.csv')?.getData() ?? Buffer.alloc(0))).toBe(sha256(csv.body))
    expectFreeOf(stdout, [TOKEN, Buffer.from(`${TOKEN}:`).toString('base64')])
  }, 150_000)
})
