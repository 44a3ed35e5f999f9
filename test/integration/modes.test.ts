import { existsSync, readFileSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import AdmZip from 'adm-zip'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { awkwardCsv, jsonLines, sha256 } from '../../sim/data.js'
import { bufferBody } from '../../sim/simulator.js'
import { printed, type ActionRun } from '../../sim/runner.js'
import type { Manifest } from '../../src/report/manifest.js'
import { expectFreeOf } from '../helpers/leaks.js'
import { outputFiles, sha256File, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_3f9a1c77e2b14d5e'

const csvA = awkwardCsv(700, 11)
const csvB = awkwardCsv(350, 12, '\r\n')
const csvC = awkwardCsv(1, 13)
const json = jsonLines(420, 14)

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      {
        id: 6073,
        pollsUntilComplete: 2,
        resultsNotReady: 1,
        numRequested: 1051,
        files: [
          { name: '6073_1.csv', body: bufferBody(csvA.body), dateCreated: '2026-11-28 15:53:00' },
          { name: '6073_2.csv', body: bufferBody(csvB.body), dateCreated: '2026-11-27 9:05:00' },
          { name: '6073_3.csv', body: bufferBody(csvC.body), dateCreated: '2026-11-28' }
        ]
      },
      {
        id: 7001,
        shape: 'object',
        statusCase: 'lower',
        dataFormat: 'json',
        files: [
          {
            name: '7001_1.json',
            body: bufferBody(json.body),
            dateCreated: '2026-11-28T10:00:00Z'
          }
        ]
      },
      {
        id: 7002,
        files: [{ name: '7002_1.csv', body: bufferBody(csvA.body) }]
      }
    ]
  },
  { artifacts: true }
)

/** Not even a masked credential: the summary shows hosts, never a query. */
const expectNoSecrets = (run: ActionRun): void => world.expectNoSecrets(run, ['X-Amz-Credential='])

function fileHostSawNoAuthorization(): void {
  const fileRequests = world.sim.log.filter(entry => entry.server === 'files')
  expect(fileRequests.length).toBeGreaterThan(0)
  for (const entry of fileRequests) expect(entry.headers.authorization).toBeUndefined()
}

describe('files mode', () => {
  it('waits for completion, downloads every file intact and reports exact record counts', async () => {
    const run = await world.run({ [Inputs.RequestId]: '6073', [Inputs.Mode]: 'files' })
    expect(run.code, printed(run)).toBe(0)
    const dir = path.join(run.workspace, 'datafiniti', '6073')
    const files = outputFiles(run)
    expect(files).toEqual(
      ['6073_1.csv', '6073_2.csv', '6073_3.csv'].map(name => path.join(dir, name))
    )
    expect(files.map(sha256File)).toEqual([sha256(csvA.body), sha256(csvB.body), sha256(csvC.body)])
    expect(run.outputs[Outputs.Status]).toBe('COMPLETED')
    expect(run.outputs[Outputs.DownloadPath]).toBe(dir)
    expect(run.outputs[Outputs.FileCount]).toBe('3')
    expect(run.outputs[Outputs.TotalBytes]).toBe(
      String(csvA.body.length + csvB.body.length + csvC.body.length)
    )
    expect(run.outputs[Outputs.RowCount]).toBe(String(700 + 350 + 1))
    // The earliest file (2026-11-27 9:05 UTC) expires first, 7 days later.
    expect(run.outputs[Outputs.ExpiresAt]).toBe('2026-12-04T09:05:00.000Z')
    const urls = JSON.parse(run.outputs[Outputs.Urls] ?? '[]') as string[]
    expect(urls).toHaveLength(3)
    for (const url of urls) expect(url.startsWith(`${world.sim.fileOrigin}/`)).toBe(true)
    expect(run.outputs[Outputs.ArtifactId]).toBeUndefined()
    expect(readdirSync(dir).sort()).toEqual([
      '6073_1.csv',
      '6073_2.csv',
      '6073_3.csv',
      'datafiniti-manifest.json'
    ])
    // The manifest describes the files as they are on disk, and holds no credential.
    const manifestText = readFileSync(path.join(dir, 'datafiniti-manifest.json'), 'utf8')
    expectFreeOf(manifestText, [TOKEN, /X-Amz-Signature/i, /https?:\/\//])
    const manifest = JSON.parse(manifestText) as Manifest
    expect(manifest).toMatchObject({ version: 2, requestId: '6073', status: 'COMPLETED' })
    expect(manifest.totals).toMatchObject({
      files: 3,
      bytes: csvA.body.length + csvB.body.length + csvC.body.length,
      rows: 1051
    })
    expect(manifest.files.map(f => [f.name, f.bytes, f.rows, f.sha256])).toEqual(
      files.map((file, i) => [
        path.basename(file),
        readFileSync(file).length,
        [700, 350, 1][i],
        sha256File(file)
      ])
    )
    // Progress while waiting, one line per poll.
    expect(run.stdout).toMatch(/STARTED \d[\d,]* \/ 1,051 records \(\d+%\), \d+ms elapsed/)
    expect(run.stdout).toContain('result files not listed yet')
    expect(run.summary).toContain('| `6073_1.csv` |')
    expect(run.summary).toContain('| 700 |')
    expect(run.summary).toContain('1,051')
    expectNoSecrets(run)
    fileHostSawNoAuthorization()
  })

  it('reads a bare-object status body with a lower-case status and counts JSON lines', async () => {
    const run = await world.run({
      [Inputs.RequestId]: '7001',
      [Inputs.Mode]: 'files',
      [Inputs.Path]: 'out/json'
    })
    expect(run.code, printed(run)).toBe(0)
    expect(run.outputs[Outputs.Status]).toBe('completed')
    const files = outputFiles(run)
    expect(files).toEqual([path.join(run.workspace, 'out', 'json', '7001_1.json')])
    expect(sha256File(files[0] as string)).toBe(sha256(json.body))
    expect(run.outputs[Outputs.RowCount]).toBe('420')
    expect(run.outputs[Outputs.ExpiresAt]).toBe('2026-12-05T10:00:00.000Z')
    expectNoSecrets(run)
  })
})

describe('urls mode', () => {
  it('sets the URL outputs and downloads nothing', async () => {
    const run = await world.run({ [Inputs.RequestId]: '7002', [Inputs.Mode]: 'urls' })
    expect(run.code, printed(run)).toBe(0)
    expect(existsSync(path.join(run.workspace, 'datafiniti'))).toBe(false)
    expect(run.outputs[Outputs.Files]).toBe('[]')
    expect(run.outputs[Outputs.TotalBytes]).toBe('0')
    expect(run.outputs[Outputs.RowCount]).toBe('')
    expect(run.outputs[Outputs.FileCount]).toBe('1')
    const [url] = JSON.parse(run.outputs[Outputs.Urls] ?? '[]') as string[]
    // The URL works on its own: it carries its signature.
    const res = await fetch(url as string)
    expect(res.status).toBe(200)
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(csvA.body))
    // The signature is masked for later steps, and the summary warns about the links.
    const signature = new URL(url as string).searchParams.get('X-Amz-Signature') ?? ''
    expect(run.stdout).toContain(`::add-mask::${signature}`)
    expect(run.summary).toContain('Do not paste them anywhere public')
    expectNoSecrets(run)
  })
})

describe('artifact mode', () => {
  it('uploads every file as one zip artifact that reads back intact', async () => {
    const run = await world.run(
      {
        [Inputs.RequestId]: '6073',
        [Inputs.RetentionDays]: '3',
        [Inputs.CompressionLevel]: '0'
      },
      { env: world.backend.env }
    )
    expect(run.code, printed(run)).toBe(0)
    const stored = world.backend.artifacts.get('datafiniti-6073')
    expect(stored?.finalized).toBe(true)
    expect(run.outputs[Outputs.ArtifactId]).toBe(String(stored?.id))
    expect(run.outputs[Outputs.ArtifactUrl]).toBe(
      `https://github.com/octo-org/weekly-data/actions/runs/4242/artifacts/${stored?.id}`
    )
    const zip = await world.backend.download('datafiniti-6073')
    expect(run.outputs[Outputs.ArtifactDigest]).toBe(sha256(zip))
    expect(stored?.hash).toBe(`sha256:${sha256(zip)}`)
    const entries = new AdmZip(zip).getEntries()
    expect(entries.map(e => e.entryName).sort()).toEqual([
      '6073_1.csv',
      '6073_2.csv',
      '6073_3.csv',
      'datafiniti-manifest.json'
    ])
    const byName = new Map(entries.map(e => [e.entryName, e]))
    expect(sha256(byName.get('6073_1.csv')?.getData() ?? Buffer.alloc(0))).toBe(sha256(csvA.body))
    expect(sha256(byName.get('6073_2.csv')?.getData() ?? Buffer.alloc(0))).toBe(sha256(csvB.body))
    const manifest = JSON.parse(
      byName.get('datafiniti-manifest.json')?.getData().toString('utf8') ?? '{}'
    ) as Manifest
    expect(manifest.files.map(f => [f.name, f.sha256])).toEqual(
      ['6073_1.csv', '6073_2.csv', '6073_3.csv'].map(name => [
        name,
        sha256(byName.get(name)?.getData() ?? Buffer.alloc(0))
      ])
    )
    // compression-level 0 stores entries uncompressed.
    for (const entry of entries) expect(entry.header.method).toBe(0)
    // retention-days 3 reached the service as an expiry about 3 days out.
    const expires = Date.parse(stored?.expiresAt ?? '')
    expect(Math.abs(expires - Date.now() - 3 * 86_400_000)).toBeLessThan(3_600_000)
    expect(run.summary).toContain(`[datafiniti-6073](${run.outputs[Outputs.ArtifactUrl] ?? ''})`)
    expectNoSecrets(run)
  })

  it('uses the artifact-name input', async () => {
    const run = await world.run(
      { [Inputs.RequestId]: '7002', [Inputs.ArtifactName]: 'weekly-properties' },
      { env: world.backend.env }
    )
    expect(run.code, printed(run)).toBe(0)
    const zip = await world.backend.download('weekly-properties')
    expect(
      new AdmZip(zip)
        .getEntries()
        .map(e => e.entryName)
        .sort()
    ).toEqual(['7002_1.csv', 'datafiniti-manifest.json'].sort())
  })
})
