/**
 * Records against rows, and what a run counted and paid: the outputs, the summary's lines and the
 * manifest say the same, from one report.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Outputs } from '../../../src/domain/action-io.js'
import type { DownloadedFile } from '../../../src/domain/model.js'
import { billLines } from '../../../src/report/bill.js'
import {
  MANIFEST_VERSION,
  manifestFor,
  readManifest,
  verifiedEarlier,
  writeManifest
} from '../../../src/report/manifest.js'
import { setOutputs } from '../../../src/report/outputs.js'
import type { Bill, RunReport } from '../../../src/report/report.js'
import { renderSummary } from '../../../src/report/summary.js'
import { reportOf } from '../../helpers/report.js'

const CHECKED = { sha256: 'a'.repeat(64), integrity: 'md5', etag: '"e"' } as const

function file(name: string, rows: number | undefined): DownloadedFile {
  return { name, path: `/ws/d/${name}`, bytes: 100, records: rows, ...CHECKED }
}

function report(bill: Bill | undefined, names: string[], rows: (number | undefined)[]): RunReport {
  return reportOf(
    {
      urls: names.map(name => `https://s3.example/b/${name}?sig=1`),
      names,
      files: names.map((name, i) => file(name, rows[i]))
    },
    {
      requestId: 'abc',
      status: 'completed',
      downloadPath: '/ws/d',
      manifestPath: undefined,
      expiresAt: undefined,
      waitedMs: 0,
      downloadMs: 0,
      noResults: undefined,
      bill
    }
  )
}

function outputs(r: RunReport): Record<string, string> {
  const all: Record<string, string> = {}
  setOutputs(r, (name, value) => (all[name] = value))
  return all
}

/** What the run counted and paid, as outputs: record-count, row-count, num-found and credits. */
function billOutputs(r: RunReport): (string | undefined)[] {
  const all = outputs(r)
  return [Outputs.RecordCount, Outputs.RowCount, Outputs.NumFound, Outputs.Credits].map(
    name => all[name]
  )
}

const CSV_BILL: Bill = {
  count: { numFound: 1_000, cost: 1 },
  records: 1_000,
  cost: 1_000,
  rowsAreRecords: false
}

describe('records and rows', () => {
  it("a CSV without flattening: record-count is the API's, row-count the files', and the summary says why they differ", () => {
    const r = report(CSV_BILL, ['abc_1.csv', 'abc_2.csv'], [1_500, 1_012])
    expect(billOutputs(r)).toEqual(['1000', '2512', '1000', '1001'])
    const md = renderSummary(r)
    expect(md).toContain('**1,000** records · **2,512** rows')
    expect(md).toContain('Counted before buying: the query matched **1,000** records.')
    expect(md).toContain('The count cost 1 credit.')
    expect(md).toContain(
      'Bought: **1,000** records for **1,000 credits**, as Datafiniti counts them.'
    )
    expect(md).toContain(
      "The files hold **2,512** rows for 1,000 records: without a flattening 'view', Datafiniti's CSV spreads one record's nested fields over several rows."
    )
    expect(md).toContain('| `abc_1.csv` | 100 B | 1,500 |')
    const manifest = manifestFor(r, { apiVersion: 'v4', query: undefined, now: 0 })
    expect(manifest.version).toBe(2)
    expect(manifest.totals).toEqual({
      files: 2,
      bytes: 200,
      records: 1_000,
      rows: 2_512,
      credits: 1_001
    })
    expect(manifest.numFound).toBe(1_000)
    expect(manifest.files.map(f => f.rows)).toEqual([1_500, 1_012])
  })

  it('says nothing of rows where they are the records', () => {
    const r = report(
      { count: undefined, records: 300, cost: 300, rowsAreRecords: true },
      ['abc_1.txt'],
      [300]
    )
    expect(billOutputs(r)).toEqual(['300', '300', '', '300'])
    const md = renderSummary(r)
    expect(md).toContain('**300** records · waited')
    expect(md).not.toMatch(/rows for|Counted before|count cost/)
  })

  it('with a shard, a CSV has no record count of its own; JSON lines are their records', () => {
    const shard = { index: 1, count: 2, totalFiles: 2 }
    const csv = { ...report(CSV_BILL, ['abc_1.csv'], [700]), shard }
    expect(outputs(csv)).toMatchObject({ [Outputs.RecordCount]: '', [Outputs.RowCount]: '700' })
    expect(billLines(csv).join('\n')).toContain(
      "This shard's files hold **700** rows of the download's 1,000 records."
    )
    const json = {
      ...report({ ...CSV_BILL, rowsAreRecords: true }, ['abc_1.txt'], [480]),
      shard
    }
    expect(outputs(json)).toMatchObject({ [Outputs.RecordCount]: '480', [Outputs.RowCount]: '480' })
  })

  it('without a bill (a report from before any API count), rows only', () => {
    const r = report(undefined, ['abc_1.csv'], [5])
    expect(outputs(r)).toMatchObject({ [Outputs.RecordCount]: '', [Outputs.Credits]: '' })
    expect(billLines(r)).toEqual([])
  })

  it('a dry run: what would be bought, and that nothing was', () => {
    const r = report(
      {
        count: { numFound: 42_000, cost: 1 },
        records: undefined,
        cost: undefined,
        rowsAreRecords: false,
        wouldBuy: 5_000
      },
      [],
      []
    )
    expect(outputs(r)).toMatchObject({ [Outputs.NumFound]: '42000', [Outputs.Credits]: '1' })
    const md = renderSummary({ ...r, status: 'DRY RUN', requestId: '' })
    expect(md).toContain(
      '**Dry run**: the query matches **42,000** records; a real run would buy **5,000** of them. Nothing was bought.'
    )
    expect(md).toContain('The count cost 1 credit.')
    expect(md).not.toContain('| File |')
  })
})

describe('manifest versions', () => {
  it('writes version 2, and a re-run still trusts what a version 1 manifest verified', async () => {
    expect(MANIFEST_VERSION).toBe(2)
    const dir = mkdtempSync(path.join(tmpdir(), 'manifest-'))
    const v1 = {
      version: 1,
      requestId: '6073',
      files: [
        {
          name: 'a.csv',
          bytes: 3,
          records: 1,
          sha256: 'b'.repeat(64),
          etag: null,
          integrity: 'length'
        }
      ]
    }
    writeFileSync(path.join(dir, 'datafiniti-manifest.json'), JSON.stringify(v1))
    expect((await readManifest(dir))?.requestId).toBe('6073')
    expect([...(await verifiedEarlier(dir)).entries()]).toEqual([
      ['a.csv', { bytes: 3, etag: undefined, sha256: 'b'.repeat(64), integrity: 'length' }]
    ])
    const r = report(CSV_BILL, ['abc_1.csv'], [7])
    const written = await writeManifest(
      dir,
      manifestFor(r, { apiVersion: 'v4', query: undefined, now: 0 })
    )
    expect(JSON.parse(readFileSync(written, 'utf8'))).toMatchObject({ version: 2 })
    expect((await verifiedEarlier(dir)).has('abc_1.csv')).toBe(true)
    writeFileSync(written, JSON.stringify({ ...v1, version: 3 }))
    expect(await readManifest(dir)).toBeUndefined()
  })
})
