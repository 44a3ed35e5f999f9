import { describe, expect, it } from 'vitest'
import type { DownloadedFile } from '../../../src/domain/model.js'
import type { ArtifactResult } from '../../../src/deliver/artifact.js'
import type { RunReport } from '../../../src/report/report.js'
import { newRunState, renderFailureSummary } from '../../../src/report/failure-summary.js'
import { reportOf, type ReportLists } from '../../helpers/report.js'
import { SUMMARY_MAX_ROWS, inert, renderSummary } from '../../../src/report/summary.js'
import { expectFreeOf } from '../../helpers/leaks.js'

const TOKEN = 'tok3nInThePath99'

function signedUrl(name: string): string {
  return (
    `https://s3.amazonaws.com/datafiniti-files/${TOKEN}/${name}` +
    '?X-Amz-Credential=AKIAEXAMPLE%2F2024&X-Amz-Signature=sig0123456789abcdef'
  )
}

function file(name: string, bytes: number, records: number | undefined): DownloadedFile {
  return {
    name,
    path: `/ws/datafiniti/6073/${name}`,
    bytes,
    records,
    sha256: 'a'.repeat(64),
    integrity: 'md5',
    etag: undefined
  }
}

type Extra = Partial<ReportLists> & Partial<Omit<RunReport, 'results' | 'downloads' | 'receipt'>>

function report(extra: Extra = {}): RunReport {
  const names = extra.names ?? ['6073_1.csv', '6073_2.csv']
  const { mode, urls, files, artifact, expiries, ...rest } = extra
  return reportOf(
    {
      mode: mode ?? 'files',
      urls: urls ?? names.map(signedUrl),
      names,
      expiries: expiries ?? names.map(() => new Date(Date.UTC(2024, 0, 8, 12, 0, 0))),
      files: files ?? [file('6073_1.csv', 2048, 1200), file('6073_2.csv', 1024, 34)],
      artifact,
      artifactName: 'datafiniti-6073'
    },
    {
      requestId: '6073',
      status: 'COMPLETED',
      downloadPath: '/ws/datafiniti/6073',
      manifestPath: undefined,
      expiresAt: new Date(Date.UTC(2024, 0, 8, 12, 0, 0)),
      waitedMs: 190_000,
      downloadMs: 4_000,
      noResults: undefined,
      ...rest
    }
  )
}

/** The summary of an artifact-mode run that uploaded `artifact`. */
function artifactSummary(artifact: ArtifactResult): string {
  return renderSummary(report({ mode: 'artifact', artifact }))
}

function expectNoCredentials(markdown: string): void {
  expectFreeOf(markdown, [
    TOKEN,
    'X-Amz',
    'sig0123456789abcdef',
    'AKIAEXAMPLE',
    '?',
    'datafiniti-files'
  ])
}

/** Fails unless `markdown` has each of `rows` as a table row, its cells in order. */
function expectRows(markdown: string, rows: readonly (readonly string[])[]): void {
  for (const cells of rows) expect(markdown).toContain(`| ${cells.join(' | ')} |`)
}

describe('renderSummary', () => {
  it('renders files mode with a table, totals and the download path', () => {
    const md = renderSummary(report())
    expect(md.startsWith('### Datafiniti download `6073`: `COMPLETED`\n\n')).toBe(true)
    expect(md).toContain(
      '**2** file(s) · **3.0 KiB** · **1,234** rows · waited 3m10s · downloaded in 4s'
    )
    expect(md).toContain(
      '| File | Size | Rows | Expires | Check |\n| --- | ---: | ---: | --- | --- |'
    )
    expectRows(md, [
      ['`6073_1.csv`', '2.0 KiB', '1,200', '2024-01-08 12:00 UTC', 'MD5'],
      ['`6073_2.csv`', '1.0 KiB', '34', '2024-01-08 12:00 UTC', 'MD5']
    ])
    expect(md).toContain('Result files expire at 2024-01-08T12:00:00.000Z')
    expect(md).toContain('Files are in `/ws/datafiniti/6073`.')
    expect(md).not.toContain('[!WARNING]')
    expect(md).not.toContain('Artifact:')
    expect(md.endsWith('\n')).toBe(true)
    expectNoCredentials(md)
  })

  it('says which check each file passed', () => {
    const checked = (integrity: DownloadedFile['integrity']): DownloadedFile => ({
      ...file(`${integrity}.csv`, 10, 1),
      integrity
    })
    const md = renderSummary(
      report({
        names: ['md5.csv', 'length.csv', 'none.csv'],
        files: [checked('md5'), checked('length'), checked('none')]
      })
    )
    expect(md).toMatch(/\| `md5\.csv` \|.*\| MD5 \|\n/)
    expect(md).toMatch(/\| `length\.csv` \|.*\| length \|\n/)
    expect(md).toMatch(/\| `none\.csv` \|.*\| none \|\n/)
  })

  it('leaves the records cell and total empty when a format is unknown', () => {
    const md = renderSummary(
      report({
        names: ['6073_1.csv', '6073_2.bin'],
        files: [file('6073_1.csv', 10, 5), file('6073_2.bin', 20, undefined)]
      })
    )
    expect(md).not.toContain('records ·')
    expect(md).toContain('| `6073_2.bin` | 20 B |  |')
    expect(md).toContain('| `6073_1.csv` | 10 B | 5 |')
  })

  it('renders urls mode with hosts, a warning and no URL query or signature', () => {
    const md = renderSummary(report({ mode: 'urls', files: [], downloadPath: '' }))
    expect(md).toContain('| File | Host |')
    expectRows(md, [
      ['`6073_1.csv`', '`s3.amazonaws.com`'],
      ['`6073_2.csv`', '`s3.amazonaws.com`']
    ])
    expect(md).toContain('> [!WARNING]')
    expect(md).toContain('signed download links')
    expect(md).toContain('**2** file(s) · waited 3m10s')
    expect(md).not.toContain('downloaded in')
    expect(md).not.toContain('records')
    expect(md).not.toContain('Files are in')
    expectNoCredentials(md)
  })

  it('renders artifact mode with a link to the artifact', () => {
    const md = artifactSummary({
      id: 4242,
      size: 3 * 1024 * 1024,
      digest: 'sha256:abc',
      url: 'https://github.com/o/r/actions/runs/7/artifacts/4242'
    })
    expect(md).toContain(
      'Artifact: [datafiniti-6073](https://github.com/o/r/actions/runs/7/artifacts/4242) (id 4242, 3.0 MiB zipped).'
    )
    expect(md).not.toContain('Files are in')
    expectNoCredentials(md)
  })

  it('names the artifact without a link or size when they are unknown', () => {
    const md = artifactSummary({ id: 7, size: undefined, digest: undefined, url: undefined })
    expect(md).toContain('Artifact: datafiniti-6073 (id 7).')
  })

  it('omits the expiry line without a date', () => {
    expect(renderSummary(report({ expiresAt: undefined }))).not.toContain('expire')
  })

  it('sets file names, status and ids in code spans, pipes escaped in table cells', () => {
    const md = renderSummary(
      report({
        status: 'DONE|<b>',
        names: ['a|b.csv', 'c<d>&.csv'],
        files: [file('a|b.csv', 1, 1), file('c<d>&.csv', 1, 1)]
      })
    )
    expect(md).toContain('| `a\\|b.csv` | 1 B | 1 | 2024-01-08 12:00 UTC |')
    expect(md).toContain('| `c<d>&.csv` | 1 B | 1 | 2024-01-08 12:00 UTC |')
    expect(md).toContain(': `DONE|<b>`\n')
    // Every table row keeps exactly its column separators (an escaped pipe is none).
    for (const line of md.split('\n').filter(l => l.startsWith('| `a') || l.startsWith('| `c'))) {
      expect(line.split(/(?<!\\)\|/)).toHaveLength(7)
    }
  })

  it('keeps every cell and the heading on one line: no line break, control or command', () => {
    const md = renderSummary(
      report({
        status: 'COMPLETED\n# Injected heading',
        names: ['a\nb.csv', 'c\r\n| x | y |.csv'],
        files: [file('a\nb.csv', 1, 1), file('c\r\n| x | y |.csv', 1, 1)],
        downloadPath: '/ws/dir\n\n> [!WARNING]'
      })
    )
    expect(md).toContain('### Datafiniti download `6073`: `COMPLETED # Injected heading`\n')
    expect(md).toContain('| `a b.csv` | 1 B | 1 | 2024-01-08 12:00 UTC |')
    expect(md).toContain('| `c \\| x \\| y \\|.csv` | 1 B | 1 | 2024-01-08 12:00 UTC |')
    expect(md).toContain('Files are in `/ws/dir > [!WARNING]`.')
    expect(md.split('\n').filter(line => line.startsWith('#'))).toHaveLength(1)
  })

  it('escapes pipes in urls mode too', () => {
    const md = renderSummary(report({ mode: 'urls', files: [], names: ['x|y.csv', 'z.csv'] }))
    expect(md).toContain('| `x\\|y.csv` | `s3.amazonaws.com` |')
  })

  describe.each(['files', 'urls'] as const)('with 500 files in %s mode', mode => {
    const names = Array.from({ length: 500 }, (_, i) => `${'n'.repeat(150)}_${i + 1}.csv`)
    const files = mode === 'urls' ? [] : names.map(n => file(n, 123_456_789, 1_000_000))
    const md = renderSummary(report({ mode, names, files }))

    it(`shows only the first ${SUMMARY_MAX_ROWS} rows`, () => {
      expect(SUMMARY_MAX_ROWS).toBe(100)
      const rows = md.split('\n').filter(line => line.startsWith(`| \`${'n'.repeat(150)}_`))
      expect(rows).toHaveLength(SUMMARY_MAX_ROWS)
      expect(md).toContain(`_${SUMMARY_MAX_ROWS}.csv\` |`)
      expect(md).not.toContain(`_${SUMMARY_MAX_ROWS + 1}.csv\` |`)
    })

    it('mentions the rest', () => {
      expect(md).toMatch(
        /…and 400 more file\(s\)( \([\d.]+ [KMG]?i?B\))?: the `files` output lists them all\./
      )
      expect(md).toContain('**500** file(s)')
    })

    it('stays well under 1 MiB', () => {
      expect(Buffer.byteLength(md, 'utf8')).toBeLessThan(64 * 1024)
    })
  })

  it('does not mention more files at exactly the limit', () => {
    const names = Array.from({ length: SUMMARY_MAX_ROWS }, (_, i) => `f${i}.csv`)
    const md = renderSummary(report({ names, files: names.map(n => file(n, 1, 1)) }))
    expect(md).not.toContain('more file(s)')
    expect(md.split('\n').filter(l => l.startsWith('| `f'))).toHaveLength(SUMMARY_MAX_ROWS)
  })

  it('reports totals across all files, not only the rows shown', () => {
    const names = Array.from({ length: 150 }, (_, i) => `f${i}.csv`)
    const md = renderSummary(report({ names, files: names.map(n => file(n, 1024, 2)) }))
    expect(md).toContain('**150** file(s) · **150 KiB** · **300** rows')
  })
})

describe('job summary of a shard', () => {
  it('says which shard of how many it is, and how many files the whole download has', () => {
    const markdown = renderSummary(report({ shard: { index: 2, count: 8, totalFiles: 40 } }))
    expect(markdown).toContain('### Datafiniti download `6073`, shard 2 of 8: `COMPLETED`')
    expect(markdown).toContain(
      "Shard **2** of **8**: 2 of the download's **40** result file(s); the other shards take the rest."
    )
    const whole = renderSummary(report())
    expect(whole).toContain('### Datafiniti download `6073`: `COMPLETED`')
    expect(whole).not.toContain('Shard')
  })
})

describe('renderSummary with a window', () => {
  it('says which records the window took, and nothing without one', () => {
    const window = {
      field: 'dateUpdated',
      from: new Date('2026-11-20T00:00:00Z'),
      to: new Date('2026-12-08T06:17:00Z')
    }
    expect(renderSummary(report({ window }))).toContain(
      'Window: records whose `dateUpdated` is on or after **2026-11-20** (UTC), as of 2026-12-08 06:17 UTC.'
    )
    expect(renderSummary(report())).not.toContain('Window')
  })
})
describe('text from outside in the summary', () => {
  const LINK = 'COMPLETED [Re-authenticate](https://example.invalid)'
  const IMAGE = '![](https://example.invalid/x.png)'

  it.each([
    ['a status with a link', { status: LINK }],
    ['a status with an image', { status: IMAGE }],
    [
      'file names with a link and an image',
      { names: [LINK, IMAGE], files: [file(LINK, 1, 1), file(IMAGE, 1, 1)] }
    ],
    ['a request id', { requestId: IMAGE }]
  ])('renders %s as text: every occurrence inside a code span', (_name, overrides) => {
    const md = renderSummary(report(overrides))
    expectInert(md)
  })

  it('a failure summary sets the message, status and id in code spans', () => {
    const progress = { ...newRunState(), requestId: IMAGE, status: LINK }
    expectInert(renderFailureSummary(progress, `The download failed: ${LINK} ${IMAGE}`))
  })

  it('keeps text with backticks whole in a longer fence', () => {
    expect(inert('a `b` c')).toBe('``a `b` c``')
    expect(inert('`x')).toBe('`` `x ``')
    expect(inert('')).toBe('')
  })
})

/** Every `(https://example.invalid` lies inside a code span: no link, image or autolink is live. */
function expectInert(markdown: string): void {
  const outside = markdown.replace(/(`+)[^`]*?\1/g, '')
  expect(outside).not.toContain('example.invalid')
  expect(markdown).toContain('example.invalid')
}
