import { describe, expect, it } from 'vitest'
import { Outputs } from '../../../src/domain/action-io.js'
import { setOutputs } from '../../../src/report/outputs.js'
import type { RunReport } from '../../../src/report/report.js'
import { reportOf, type ReportLists } from '../../helpers/report.js'

const URLS = ['https://s3.example/b/6073_1.csv?sig=1', 'https://s3.example/b/6073_2.csv?sig=2']

const CHECKED = { sha256: 'a'.repeat(64), integrity: 'md5', etag: undefined } as const

type Extra = Partial<ReportLists> & Partial<Omit<RunReport, 'results' | 'downloads' | 'receipt'>>

function report(extra: Extra = {}): RunReport {
  const { mode, urls, names, files, artifact, expiries, ...rest } = extra
  return reportOf(
    {
      mode: mode ?? 'files',
      urls: urls ?? URLS,
      names: names ?? ['6073_1.csv', '6073_2.csv'],
      expiries: expiries ?? [new Date(Date.UTC(2024, 0, 8)), new Date(Date.UTC(2024, 0, 9))],
      files: files ?? [
        { name: '6073_1.csv', path: '/ws/d/6073_1.csv', bytes: 100, records: 3, ...CHECKED },
        { name: '6073_2.csv', path: '/ws/d/6073_2.csv', bytes: 50, records: 4, ...CHECKED }
      ],
      artifact,
      artifactName: 'datafiniti-6073'
    },
    {
      requestId: '6073',
      status: 'COMPLETED',
      downloadPath: '/ws/d',
      manifestPath: undefined,
      expiresAt: new Date(Date.UTC(2024, 0, 8)),
      waitedMs: 1000,
      downloadMs: 1000,
      noResults: undefined,
      ...rest
    }
  )
}

function collect(r: RunReport): { map: Map<string, string>; order: string[] } {
  const map = new Map<string, string>()
  const order: string[] = []
  setOutputs(r, (name, value) => {
    expect(typeof value).toBe('string')
    expect(map.has(name)).toBe(false)
    map.set(name, value)
    order.push(name)
  })
  return { map, order }
}

const ARTIFACT_OUTPUTS: string[] = [
  Outputs.ArtifactId,
  Outputs.ArtifactUrl,
  Outputs.ArtifactDigest,
  Outputs.ArtifactName
]
// request-id is also set by main.ts as soon as the id is known; setOutputs sets it again.
const REPORT_OUTPUTS: string[] = Object.values(Outputs)
const COMMON_OUTPUTS: string[] = REPORT_OUTPUTS.filter(o => !ARTIFACT_OUTPUTS.includes(o))

describe('setOutputs', () => {
  it('sets every output from constants.ts when there is an artifact', () => {
    const { map } = collect(
      report({
        mode: 'artifact',
        artifact: { id: 99, size: 10, digest: 'sha256:ff', url: 'https://github.com/o/r/a/99' }
      })
    )
    expect([...map.keys()].sort()).toEqual([...REPORT_OUTPUTS].sort())
    expect(map.get(Outputs.RequestId)).toBe(report({}).requestId)
    expect(map.get(Outputs.ArtifactId)).toBe('99')
    expect(map.get(Outputs.ArtifactUrl)).toBe('https://github.com/o/r/a/99')
    expect(map.get(Outputs.ArtifactDigest)).toBe('sha256:ff')
    // The name a later job passes to actions/download-artifact.
    expect(map.get(Outputs.ArtifactName)).toBe('datafiniti-6073')
  })

  it('sets the common outputs with their values in files mode', () => {
    const { map } = collect(report())
    expect([...map.keys()].sort()).toEqual([...COMMON_OUTPUTS].sort())
    expect(Object.fromEntries(map)).toEqual({
      [Outputs.RequestId]: '6073',
      [Outputs.Status]: 'COMPLETED',
      [Outputs.Urls]: JSON.stringify(URLS),
      [Outputs.Files]: JSON.stringify(['/ws/d/6073_1.csv', '/ws/d/6073_2.csv']),
      [Outputs.DownloadPath]: '/ws/d',
      [Outputs.FileCount]: '2',
      [Outputs.Shard]: '',
      [Outputs.DownloadFileCount]: '2',
      [Outputs.TotalBytes]: '150',
      // Without the API's count, CSV rows are no count of records.
      [Outputs.RecordCount]: '',
      [Outputs.RowCount]: '7',
      [Outputs.NumFound]: '',
      [Outputs.Credits]: '',
      [Outputs.ExpiresAt]: '2024-01-08T00:00:00.000Z',
      [Outputs.Manifest]: '',
      [Outputs.Since]: ''
    })
  })

  it('gives JSON arrays that parse back to the URLs and paths', () => {
    const { map } = collect(report())
    expect(JSON.parse(map.get(Outputs.Urls) ?? '')).toEqual(URLS)
    expect(JSON.parse(map.get(Outputs.Files) ?? '')).toEqual([
      '/ws/d/6073_1.csv',
      '/ws/d/6073_2.csv'
    ])
  })

  it('leaves record-count empty in urls mode and reports the URLs only', () => {
    const { map } = collect(report({ mode: 'urls', files: [], downloadPath: '' }))
    expect(map.get(Outputs.RecordCount)).toBe('')
    expect(map.get(Outputs.Files)).toBe('[]')
    expect(map.get(Outputs.FileCount)).toBe('2')
    expect(map.get(Outputs.TotalBytes)).toBe('0')
    expect(JSON.parse(map.get(Outputs.Urls) ?? '')).toEqual(URLS)
    for (const name of ARTIFACT_OUTPUTS) expect(map.has(name)).toBe(false)
  })

  it('leaves row-count empty when any file has an unknown format', () => {
    const r = report()
    r.results.forEach((result, i) => {
      if (i === 1 && result.local) result.local = { ...result.local, records: undefined }
    })
    expect(collect(r).map.get(Outputs.RowCount)).toBe('')
  })

  it('reports zero rows as "0", not empty', () => {
    const r = report()
    for (const result of r.results) if (result.local) result.local = { ...result.local, records: 0 }
    expect(collect(r).map.get(Outputs.RowCount)).toBe('0')
  })

  it('leaves expires-at empty without a date', () => {
    expect(collect(report({ expiresAt: undefined })).map.get(Outputs.ExpiresAt)).toBe('')
  })

  it('sets no artifact outputs without an artifact, even in artifact mode', () => {
    const { map } = collect(report({ mode: 'artifact', artifact: undefined }))
    for (const name of ARTIFACT_OUTPUTS) expect(map.has(name)).toBe(false)
  })

  it('sets empty artifact url and digest when unknown', () => {
    const { map } = collect(
      report({
        mode: 'artifact',
        artifact: { id: 0, size: undefined, digest: undefined, url: undefined }
      })
    )
    expect(map.get(Outputs.ArtifactId)).toBe('0')
    expect(map.get(Outputs.ArtifactUrl)).toBe('')
    expect(map.get(Outputs.ArtifactDigest)).toBe('')
  })
})
