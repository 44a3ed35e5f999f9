/**
 * What a run costs, through dist/index.js against the simulator: the count before buying
 * (max-records, dry-run), and records as Datafiniti counts them against the rows the files hold.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import type { Manifest } from '../../src/report/manifest.js'
import { flattens, jsonLines, recordsCsv } from '../../sim/data.js'
import { annotations, failureOf, printed } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import type { FileAsk, SimFile } from '../../sim/types.js'
import { useWorld } from '../helpers/world.js'

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjb3N0cyJ9.c2ln'
const HOTELS = 'categories:hotels AND (city:Austin OR city:Dallas)'
const MATCHES = 1_200

/** The files Datafiniti would write for what the create asked: a record can span CSV rows. */
function filesFor(id: string, ask: FileAsk): SimFile[] {
  if (ask.format === 'JSON') {
    return [{ name: `${id}_1.txt`, body: bufferBody(jsonLines(ask.numRequested, 7).body) }]
  }
  const half = Math.floor(ask.numRequested / 2)
  const flat = flattens(ask.view)
  return [
    { name: `${id}_1.csv`, body: bufferBody(recordsCsv(half, 5, flat).body) },
    { name: `${id}_2.csv`, body: bufferBody(recordsCsv(ask.numRequested - half, 6, flat).body) }
  ]
}

/** The rows those files hold, as the simulator generated them. */
function rowsOf(records: number, flat: boolean): number {
  const half = Math.floor(records / 2)
  return recordsCsv(half, 5, flat).rows + recordsCsv(records - half, 6, flat).rows
}

const world = useWorld(
  {
    token: TOKEN,
    requests: [],
    queries: { [HOTELS]: { numFound: MATCHES, files: filesFor } }
  },
  {
    inputs: {
      [Inputs.Mode]: 'files',
      [Inputs.ApiVersion]: 'v4',
      [Inputs.Query]: HOTELS,
      [Inputs.DataType]: 'businesses',
      [Inputs.NumRecords]: 'all'
    }
  }
)

function manifestOf(run: { outputs: Record<string, string> }): Manifest {
  return JSON.parse(readFileSync(run.outputs[Outputs.Manifest] ?? '', 'utf8')) as Manifest
}

describe('max-records', () => {
  it('above the match count: counts the very query it then buys, one record for the count', async () => {
    const counts = world.sim.counts.length
    const created = world.sim.created.length
    const run = await world.run({ [Inputs.MaxRecords]: '5000' })
    expect(run.code, printed(run)).toBe(0)
    expect(world.sim.counts.slice(counts)).toEqual([
      { query: HOTELS, dataType: 'businesses', numRecords: 1 }
    ])
    expect(world.sim.created.slice(created)).toMatchObject([
      { query: HOTELS, numRecords: undefined }
    ])
    expect(run.outputs[Outputs.NumFound]).toBe(String(MATCHES))
    // One credit a record in the simulator: the download's 1,200 and the count's 1.
    expect(run.outputs[Outputs.Credits]).toBe(String(MATCHES + 1))
    const countAt = run.stdout.indexOf('::group::Count matching records')
    expect(countAt).toBeGreaterThan(-1)
    expect(countAt).toBeLessThan(run.stdout.indexOf('::group::Create download'))
    expect(run.summary).toContain(`Counted before buying: the query matched **1,200** records.`)
    expect(run.summary).toContain('Bought: **1,200** records for **1,200 credits**')
  })

  it('below the match count: fails before anything is bought, naming both numbers and the fix', async () => {
    const created = world.sim.created.length
    const createCalls = world.sim.createCalls.length
    const run = await world.run({ [Inputs.MaxRecords]: '1000' })
    expect(run.code).not.toBe(0)
    expect(failureOf(run)).toBe(
      "The query matches 1,200 records, more than 'max-records' 1,000 allows: nothing was bought. " +
        "Narrow the query, raise 'max-records' to at least 1200, or set 'num-records: 1000' to take " +
        'only 1,000 records on purpose.'
    )
    expect(world.sim.created.length).toBe(created)
    expect(world.sim.createCalls.length).toBe(createCalls)
    expect(run.outputs[Outputs.NumFound]).toBe(String(MATCHES))
  })

  it('a query that matches nothing: counted, and settled as if-no-results says', async () => {
    const run = await world.run({ [Inputs.MaxRecords]: '10', [Inputs.Query]: 'nothing:here' })
    expect(run.code, printed(run)).toBe(0)
    expect(run.outputs[Outputs.NumFound]).toBe('0')
    expect(run.outputs[Outputs.Status]).toBe('NO MATCHES')
    expect(run.summary).toContain('Counted before buying: the query matched **0** records.')
  })

  it('with num-records within it: the download cannot exceed it, so nothing is counted', async () => {
    const counts = world.sim.counts.length
    const run = await world.run({ [Inputs.MaxRecords]: '1000', [Inputs.NumRecords]: '1000' })
    expect(run.code, printed(run)).toBe(0)
    expect(world.sim.counts.length).toBe(counts)
    expect(run.outputs[Outputs.RecordCount]).toBe('1000')
    expect(run.outputs[Outputs.NumFound]).toBe('')
  })
})

describe('dry-run', () => {
  it('counts, reports and creates nothing', async () => {
    const created = world.sim.created.length
    const createCalls = world.sim.createCalls.length
    const run = await world.run({ [Inputs.DryRun]: 'true', [Inputs.NumRecords]: '500' })
    expect(run.code, printed(run)).toBe(0)
    expect(world.sim.created.length).toBe(created)
    expect(world.sim.createCalls.length).toBe(createCalls)
    expect(world.sim.counts.at(-1)).toEqual({
      query: HOTELS,
      dataType: 'businesses',
      numRecords: 1
    })
    expect(run.outputs).toMatchObject({
      [Outputs.NumFound]: String(MATCHES),
      [Outputs.Credits]: '1',
      [Outputs.Status]: 'DRY RUN',
      [Outputs.RequestId]: '',
      [Outputs.FileCount]: '0',
      [Outputs.Manifest]: ''
    })
    expect(run.summary).toContain(
      '**Dry run**: the query matches **1,200** records; a real run would buy **500** of them. Nothing was bought.'
    )
    expect(run.stdout).toContain(
      'Dry run: the query matches 1,200 records, a real run would buy 500'
    )
  })

  it('with max-records exceeded: warns that a real run would fail, and still buys nothing', async () => {
    const created = world.sim.created.length
    const run = await world.run({ [Inputs.DryRun]: 'true', [Inputs.MaxRecords]: '10' })
    expect(run.code, printed(run)).toBe(0)
    expect(world.sim.created.length).toBe(created)
    expect(annotations(run, 'warning').join('\n')).toMatch(
      /A run without 'dry-run' would fail: The query matches 1,200 records, more than 'max-records' 10 allows/
    )
  })

  it.each([
    [{ [Inputs.ApiVersion]: 'v3' }, /Input 'dry-run' needs 'api-version: v4'/],
    [
      { [Inputs.Query]: '', [Inputs.RequestId]: 'abc' },
      /Input 'dry-run' only applies with 'query'/
    ],
    [{ [Inputs.DryRun]: 'maybe' }, /Input 'dry-run' must be true or false; got "maybe"/],
    [{ [Inputs.MaxRecords]: '0' }, /Input 'max-records' must be a positive whole number/]
  ])('%j is an input error before any request', async (given, message) => {
    const before = world.sim.log.length
    const run = await world.run({ [Inputs.DryRun]: 'true', ...given })
    expect(run.code).not.toBe(0)
    expect(failureOf(run)).toMatch(message)
    expect(world.sim.log.length).toBe(before)
  })
})

describe('records and rows', () => {
  it("a CSV without a flattening view: record-count is the API's, row-count the rows on disk", async () => {
    const run = await world.run({ [Inputs.NumRecords]: '400' })
    expect(run.code, printed(run)).toBe(0)
    const rows = rowsOf(400, false)
    expect(rows).toBeGreaterThan(400)
    expect(run.outputs[Outputs.RecordCount]).toBe('400')
    expect(run.outputs[Outputs.RowCount]).toBe(String(rows))
    const manifest = manifestOf(run)
    expect(manifest.version).toBe(2)
    expect(manifest.totals).toMatchObject({ records: 400, rows, credits: 400 })
    expect(manifest.files.reduce((sum, f) => sum + (f.rows ?? 0), 0)).toBe(rows)
    expect(run.summary).toContain(`**400** records · **${rows.toLocaleString('en-US')}** rows`)
    expect(run.summary).toContain(
      `The files hold **${rows.toLocaleString('en-US')}** rows for 400 records: without a flattening 'view'`
    )
    for (const file of manifest.files) {
      expect(run.summary).toContain(`| \`${file.name}\` | `)
      expect(run.summary).toMatch(
        new RegExp(
          `\\| \`${file.name}\` \\| [^|]+ \\| ${(file.rows ?? 0).toLocaleString('en-US')} \\|`
        )
      )
    }
  })

  it('a flattening view: one row a record, and nothing to explain', async () => {
    const run = await world.run({ [Inputs.NumRecords]: '400', [Inputs.View]: 'business_flat' })
    expect(run.code, printed(run)).toBe(0)
    expect(run.outputs[Outputs.RecordCount]).toBe('400')
    expect(run.outputs[Outputs.RowCount]).toBe('400')
    expect(run.summary).not.toContain('rows for')
  })

  it('JSON lines: a line is a record, and the API agrees', async () => {
    const run = await world.run({ [Inputs.NumRecords]: '333', [Inputs.Format]: 'JSON' })
    expect(run.code, printed(run)).toBe(0)
    expect(run.outputs[Outputs.RecordCount]).toBe('333')
    expect(run.outputs[Outputs.RowCount]).toBe('333')
    expect(manifestOf(run).totals).toMatchObject({ records: 333, rows: 333 })
  })
})
