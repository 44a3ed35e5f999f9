/**
 * What a person reading the run sees: the job summary (3 files and 500), one log group per phase,
 * annotations, and artifact mode where artifacts cannot be uploaded.
 */
import { existsSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { awkwardCsv } from '../../sim/data.js'
import { annotations, printed, type ActionRun } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import { outputFiles, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_5ummary5ummary'
const csv = awkwardCsv(120, 51)
const headerOnly = Buffer.from('id,name,address\n')

function v3Date(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 19)
}

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      {
        id: 301,
        numRequested: 360,
        pollsUntilComplete: 1,
        files: [1, 2, 3].map(n => ({ name: `301_${n}.csv`, body: bufferBody(csv.body) }))
      },
      {
        id: 302,
        numRequested: 60_000,
        files: Array.from({ length: 500 }, (_, i) => ({
          name: `302_${i + 1}.csv`,
          body: bufferBody(csv.body)
        }))
      },
      {
        id: 303,
        files: [
          {
            name: '303_1.csv',
            body: bufferBody(csv.body),
            // Made six and a half days ago: its URL expires in half a day.
            dateCreated: v3Date(new Date(Date.now() - 6.5 * 86_400_000))
          }
        ]
      },
      { id: 304, files: [{ name: '304_1.csv', body: bufferBody(headerOnly) }] }
    ]
  },
  { artifacts: true }
)

const warnings = (result: ActionRun): string[] => annotations(result, 'warning')

/** A files-mode run of download `id`: no artifact backend needed. */
const runFiles = (id: string, extra: Record<string, string> = {}): Promise<ActionRun> =>
  world.run({ [Inputs.RequestId]: id, [Inputs.Mode]: 'files', ...extra })

describe('job summary and log', () => {
  it('a 3-file artifact run: one group per phase, a summary with every file and the artifact link', async () => {
    const result = await world.run({ [Inputs.RequestId]: '301' }, { env: world.backend.env })
    expect(result.code, printed(result)).toBe(0)
    const groups = result.stdout
      .split('\n')
      .filter(line => line.startsWith('::group::'))
      .map(line => line.slice('::group::'.length))
    expect(groups).toEqual([
      'Validate inputs',
      'Wait for download request 301',
      'Download 3 file(s)',
      'Upload artifact datafiniti-301'
    ])
    const summary = result.summary
    expect(summary).toContain('### Datafiniti download `301`: `COMPLETED`')
    expect(summary).toMatch(
      /\*\*3\*\* file\(s\) · \*\*[\d.]+ KiB\*\* · \*\*360\*\* records · waited \d+ms · downloaded in \d+ms/
    )
    expect(summary).toContain('| File | Size | Rows | Expires |')
    for (const n of [1, 2, 3])
      expect(summary).toMatch(
        new RegExp(
          `\\| \`301_${n}\\.csv\` \\| [\\d.]+ KiB \\| 120 \\| \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC \\|`
        )
      )
    expect(summary).toContain(`[datafiniti-301](${result.outputs[Outputs.ArtifactUrl] ?? ''})`)
    expect(summary).not.toContain(TOKEN)
    expect(summary).not.toContain('X-Amz')
    console.log(`\n--- rendered job summary (3 files) ---\n${summary}`)
  })

  it('500 files: the summary lists 100 rows, sums up the rest and stays far below 1 MiB', async () => {
    const result = await runFiles('302', { [Inputs.Concurrency]: '16' })
    expect(result.code, printed(result)).toBe(0)
    expect(result.outputs[Outputs.FileCount]).toBe('500')
    expect(outputFiles(result).length).toBe(500)
    const rows = result.summary.split('\n').filter(line => /^\| `302_\d+\.csv` \|/.test(line))
    expect(rows).toHaveLength(100)
    expect(result.summary).toMatch(
      /…and 400 more file\(s\) \([\d.]+ MiB\): the `files` output lists them all\./
    )
    expect(result.summary).toContain('**60,000** records')
    expect(Buffer.byteLength(result.summary)).toBeLessThan(32 * 1024)
  })
})

describe('annotations', () => {
  it('warns when the result files expire within 24 hours', async () => {
    const result = await runFiles('303')
    expect(result.code, printed(result)).toBe(0)
    expect(warnings(result).join('\n')).toMatch(
      /The result files of download 303 expire at \S+, within 24 hours/
    )
  })

  it('warns when a download holds zero records', async () => {
    const result = await runFiles('304')
    expect(result.code, printed(result)).toBe(0)
    expect(result.outputs[Outputs.RowCount]).toBe('0')
    expect(warnings(result).join('\n')).toMatch(/Download 304 holds no records/)
  })

  it('does not warn about a healthy download', async () => {
    const result = await runFiles('301')
    expect(result.code, printed(result)).toBe(0)
    expect(warnings(result)).toEqual([])
  })
})

describe('artifact-fallback: files', () => {
  it.each([
    [
      'on GitHub Enterprise Server',
      { GITHUB_SERVER_URL: 'https://github.example.com' },
      /not supported on GitHub Enterprise Server/
    ],
    ['outside a runner', {}, /needs the GitHub Actions runtime/]
  ])('%s warns, downloads and keeps the files', async (_label, env, message) => {
    const result = await world.run(
      { [Inputs.RequestId]: '301', [Inputs.ArtifactFallback]: 'files' },
      { env }
    )
    expect(result.code, printed(result)).toBe(0)
    expect(warnings(result).join('\n')).toMatch(message)
    expect(warnings(result).join('\n')).toContain("'artifact-fallback: files' is set")
    const dir = path.join(result.workspace, 'datafiniti', '301')
    expect(existsSync(dir) && readdirSync(dir).sort()).toEqual([
      '301_1.csv',
      '301_2.csv',
      '301_3.csv',
      'datafiniti-manifest.json'
    ])
    expect(result.outputs[Outputs.ArtifactId]).toBeUndefined()
    expect(result.stdout).not.toContain('::group::Upload artifact')
  })
})
