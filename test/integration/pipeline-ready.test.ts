import { existsSync, readFileSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import type { Manifest } from '../../src/report/manifest.js'
import { awkwardCsv } from '../../sim/data.js'
import { bufferBody } from '../../sim/simulator.js'
import { annotations, failureOf, printed, type ActionRun } from '../../sim/runner.js'
import { useWorld } from '../helpers/world.js'

/**
 * What a scheduled pipeline relies on, through dist/index.js: quiet empty runs
 * (`if-no-results`), the manifest and artifact-name outputs for the next job, and a job summary
 * when the run fails.
 */
const TOKEN = 'tok_5e6f7a8b9c0d1e2f'
const csv = awkwardCsv(40, 31)
const notFound =
  '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>'

const world = useWorld(
  {
    token: TOKEN,
    // As in v3's own examples: the token is part of every file URL's path.
    filePrefix: TOKEN,
    requests: [
      { id: 400, files: [] },
      {
        id: 401,
        files: [
          { name: '401_1.csv', body: bufferBody(Buffer.from('id,name\n')) },
          { name: '401_2.csv', body: bufferBody(Buffer.from('id,name\r\n')) }
        ]
      },
      {
        id: 402,
        files: [{ name: '402_1.csv', body: bufferBody(csv.body), dateCreated: '2026-11-28 9:05' }]
      },
      {
        id: 403,
        files: [
          { name: '403_1.csv', body: bufferBody(csv.body) },
          {
            name: '403_2.csv',
            body: bufferBody(csv.body),
            faults: [{ pass: true }, { status: 404, body: notFound }]
          }
        ]
      }
    ]
  },
  { artifacts: true }
)

const run = (inputs: Record<string, string>): Promise<ActionRun> =>
  world.run(inputs, { env: world.backend.env })

describe('if-no-results, in artifact mode', () => {
  const empties = [
    ['no result files', '400', /request 400 is COMPLETED but lists no result files/],
    ['files with no records', '401', /Download 401 holds no records: its 2 file\(s\) are empty/]
  ] as const

  function expectNothingDelivered(result: ActionRun, id: string): void {
    expect(result.code, printed(result)).toBe(0)
    expect(result.outputs[Outputs.FileCount]).toBe('0')
    expect(result.outputs[Outputs.Files]).toBe('[]')
    expect(result.outputs[Outputs.Manifest]).toBe('')
    expect(result.outputs[Outputs.ArtifactName]).toBeUndefined()
    expect(result.outputs[Outputs.ArtifactId]).toBeUndefined()
    expect(world.backend.artifacts.has(`datafiniti-${id}`)).toBe(false)
    const dir = path.join(result.workspace, 'datafiniti', id)
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([])
    expect(result.summary).toContain('No results: ')
    world.expectNoSecrets(result)
  }

  it.each(empties)(
    'warn (default), %s: succeeds with file-count 0 and a warning',
    async (_, id, why) => {
      const result = await run({ [Inputs.RequestId]: id })
      expectNothingDelivered(result, id)
      expect(annotations(result, 'warning').join('\n')).toMatch(why)
    }
  )

  it.each(empties)('ignore, %s: succeeds with file-count 0 and no warning', async (_, id, why) => {
    const result = await run({ [Inputs.RequestId]: id, [Inputs.IfNoResults]: 'ignore' })
    expectNothingDelivered(result, id)
    expect(annotations(result, 'warning')).toEqual([])
    expect(printed(result)).toMatch(why)
  })

  it.each(empties)('error, %s: fails saying why and how to succeed instead', async (_, id, why) => {
    const result = await run({ [Inputs.RequestId]: id, [Inputs.IfNoResults]: 'error' })
    expect(result.code, printed(result)).not.toBe(0)
    expect(failureOf(result)).toMatch(why)
    expect(failureOf(result)).toContain("as 'if-no-results: error' asks")
    expect(world.backend.artifacts.has(`datafiniti-${id}`)).toBe(false)
    world.expectNoSecrets(result)
  })
})

describe('outputs for the next job', () => {
  it('sets manifest (its path) and artifact-name (for actions/download-artifact)', async () => {
    const result = await run({ [Inputs.RequestId]: '402', [Inputs.ArtifactName]: 'weekly' })
    expect(result.code, printed(result)).toBe(0)
    const manifestPath = path.join(
      result.workspace,
      'datafiniti',
      '402',
      'datafiniti-manifest.json'
    )
    expect(result.outputs[Outputs.Manifest]).toBe(manifestPath)
    expect(result.outputs[Outputs.ArtifactName]).toBe('weekly')
    expect(world.backend.artifacts.get('weekly')?.finalized).toBe(true)
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest
    // v3's date_created, and the file's expiry 7 days later.
    expect(manifest.createdAt).toBe('2026-11-28T09:05:00.000Z')
    expect(manifest.files[0]).toMatchObject({
      name: '402_1.csv',
      createdAt: '2026-11-28T09:05:00.000Z',
      expiresAt: '2026-12-05T09:05:00.000Z'
    })
  })

  it('leaves manifest and artifact-name empty in urls mode', async () => {
    const result = await run({ [Inputs.RequestId]: '402', [Inputs.Mode]: 'urls' })
    expect(result.code, printed(result)).toBe(0)
    expect(result.outputs[Outputs.Manifest]).toBe('')
    expect(result.outputs[Outputs.ArtifactName]).toBeUndefined()
  })
})

describe('the job summary of a failed run', () => {
  it('names the request, the stage, the files done and the error, with no secret', async () => {
    const result = await run({ [Inputs.RequestId]: '403', [Inputs.Concurrency]: '1' })
    expect(result.code, printed(result)).not.toBe(0)
    expect(result.summary).toMatch(
      /^### Datafiniti download `403`: failed while downloading the files\n/
    )
    expect(result.summary).toContain(`> \`${failureOf(result)}\``)
    expect(result.summary).toMatch(/> `The file host has no 403_2\.csv .*HTTP 404/)
    expect(result.summary).toMatch(/Last status: `COMPLETED` · 1 of 2 file\(s\) downloaded/)
    expect(result.summary).not.toContain(TOKEN)
    world.expectNoSecrets(result)
  })

  it('names the inputs when an input is wrong', async () => {
    const result = await run({ [Inputs.RequestId]: '402', [Inputs.IfNoResults]: 'skip' })
    expect(result.code, printed(result)).not.toBe(0)
    expect(result.summary).toBe(
      `### Datafiniti download: failed while validating the inputs\n\n> \`${failureOf(result)}\`\n\n`
    )
    expect(failureOf(result)).toMatch(/Input 'if-no-results' must be one of warn, error, ignore/)
  })
})
