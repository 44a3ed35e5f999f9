import { describe, expect, it } from 'vitest'
import { assignFileNames, fileNameFromUrl } from '../../../src/transfer/file-names.js'

const S3 =
  'https://s3.amazonaws.com/datafiniti-voltaire-files/abcdef0123456789/6073_1.csv' +
  '?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20240101&X-Amz-Signature=deadbeef'

function expectSafe(name: string): void {
  expect(name).not.toMatch(/[/\\]/)
  // eslint-disable-next-line no-control-regex
  expect(name).not.toMatch(/[\u0000-\u001f\u007f"*:<>?|]/)
  expect(name).not.toMatch(/^\.*$/)
  expect(name.split(/[/\\]/)).not.toContain('..')
}

describe('fileNameFromUrl', () => {
  it('takes the last path segment of a signed S3 URL, without the query', () => {
    expect(fileNameFromUrl(S3, 'fallback')).toBe('6073_1.csv')
  })

  it('ignores a fragment', () => {
    expect(fileNameFromUrl('https://h.example/dir/file.json#part', 'fb')).toBe('file.json')
  })

  it.each([
    ['https://h.example/a/my%20file.csv', 'my file.csv'],
    ['https://h.example/a/%C3%9Cn%C3%AFc%C3%B8d%C3%A9.csv', 'Ünïcødé.csv'],
    ['https://h.example/a/data%2Bmore.csv', 'data+more.csv'],
    ['https://h.example/a/100%25.csv', '100%.csv']
  ])('decodes percent-encoding in %s', (url, name) => {
    expect(fileNameFromUrl(url, 'fb')).toBe(name)
  })

  it('keeps an undecodable segment as it is', () => {
    expect(fileNameFromUrl('https://h.example/a/bad%E0%A4%A.csv', 'fb')).toBe('bad%E0%A4%A.csv')
  })

  it.each([
    'https://h.example/a/..%2F..%2Fetc%2Fpasswd',
    'https://h.example/a/x%2F..%2F..%2Fsecret.csv',
    'https://h.example/a/%2E%2E%2F%2E%2E%2Fsecret.csv',
    'https://h.example/a/..%5C..%5Cwindows%5Csecret.csv',
    'https://h.example/a/x%2F..',
    'https://h.example/a/x%5C..',
    'https://h.example/a/%2E%2E',
    'https://h.example/a/..',
    'https://h.example/a/%2e%2e%2f',
    'https://h.example/a/x%2F%2E%2E'
  ])('cannot produce a separator or ".." from %s', url => {
    const name = fileNameFromUrl(url, 'result-1')
    expectSafe(name)
    expect(name).not.toBe('..')
    expect(name).not.toContain('/')
  })

  it('keeps only what follows the last decoded separator', () => {
    expect(fileNameFromUrl('https://h.example/a/..%2F..%2Fetc%2Fpasswd', 'fb')).toBe('passwd')
    expect(fileNameFromUrl('https://h.example/a/x%5C..%5Csecret.csv', 'fb')).toBe('secret.csv')
  })

  it('uses the fallback when decoding leaves only dots', () => {
    expect(fileNameFromUrl('https://h.example/a/x%2F..', 'result-3')).toBe('result-3')
    expect(fileNameFromUrl('https://h.example/a/...', 'result-3')).toBe('result-3')
    expect(fileNameFromUrl('https://h.example/a/%2E', 'result-3')).toBe('result-3')
  })

  it.each([
    ['a%00b.csv', 'a_b.csv'],
    ['a%0Ab.csv', 'a_b.csv'],
    ['a%0D%0Ab.csv', 'a__b.csv'],
    ['a%09b.csv', 'a_b.csv'],
    ['a%7Fb.csv', 'a_b.csv'],
    ['a%22b.csv', 'a_b.csv'],
    ['a%3Ab.csv', 'a_b.csv'],
    ['a:b.csv', 'a_b.csv'],
    ['a%3Cb%3E.csv', 'a_b_.csv'],
    ['a%7Cb.csv', 'a_b.csv'],
    ['a%2Ab.csv', 'a_b.csv'],
    ['a*b.csv', 'a_b.csv'],
    ['a%3Fb.csv', 'a_b.csv']
  ])('replaces unsafe characters in %s', (segment, name) => {
    const result = fileNameFromUrl(`https://h.example/dir/${segment}`, 'fb')
    expect(result).toBe(name)
    expectSafe(result)
  })

  it('replaces every unsafe character', () => {
    const all = encodeURIComponent('"*:<>?|') + '%01%1F'
    const result = fileNameFromUrl(`https://h.example/${all}x.csv`, 'fb')
    expect(result).toBe('_________x.csv')
  })

  it.each([
    ['https://h.example/', 'no segment'],
    ['https://h.example', 'no path'],
    ['https://h.example/dir/', 'a trailing slash'],
    ['https://h.example/dir/%20%20', 'only spaces'],
    ['not a url at all', 'an unparseable URL'],
    ['', 'an empty string']
  ])('uses the fallback for %s (%s)', url => {
    expect(fileNameFromUrl(url, 'result-7')).toBe('result-7')
  })

  it('trims surrounding spaces', () => {
    expect(fileNameFromUrl('https://h.example/%20name.csv%20', 'fb')).toBe('name.csv')
  })

  it('caps a name at 250 bytes (255 with its .part), keeping the end (and so the extension)', () => {
    const long = `${'a'.repeat(300)}.csv`
    const name = fileNameFromUrl(`https://h.example/${long}`, 'fb')
    expect(name).toBe(`${'a'.repeat(246)}.csv`)
  })
})

/** URLs on one host, the nth in directory n, whose last path segments are `names`. */
function urlsOf(...names: string[]): string[] {
  return names.map((name, i) => `https://h.example/${i + 1}/${name}`)
}

describe('assignFileNames', () => {
  it('names each URL after its file', () => {
    expect(
      assignFileNames([
        'https://h.example/x/6073_1.csv?sig=1',
        'https://h.example/x/6073_2.csv?sig=2'
      ])
    ).toEqual(['6073_1.csv', '6073_2.csv'])
  })

  it('adds -2, -3 before the extension for duplicates', () => {
    expect(
      assignFileNames([
        'https://a.example/1/data.csv',
        'https://b.example/2/data.csv',
        'https://c.example/3/data.csv'
      ])
    ).toEqual(['data.csv', 'data-2.csv', 'data-3.csv'])
  })

  it.each([
    [
      'treats names that differ only in case as duplicates',
      ['Data.CSV', 'data.csv', 'DATA.csv'],
      ['Data.CSV', 'data-2.csv', 'DATA-3.csv']
    ],
    ['suffixes a name without an extension at its end', ['data', 'data'], ['data', 'data-2']],
    [
      'puts the suffix before the last extension only',
      ['data.csv.gz', 'data.csv.gz'],
      ['data.csv.gz', 'data.csv-2.gz']
    ],
    ['does not treat a leading dot as an extension', ['.env', '.env'], ['.env', '.env-2']]
  ])('%s', (_title, names, expected) => {
    expect(assignFileNames(urlsOf(...names))).toEqual(expected)
  })

  it('skips a suffix already taken by a real name', () => {
    const names = assignFileNames(urlsOf('data-2.csv', 'data.csv', 'data.csv', 'data.csv'))
    expect(names).toEqual(['data-2.csv', 'data.csv', 'data-3.csv', 'data-4.csv'])
  })

  it('always yields distinct names, case-insensitively', () => {
    const urls = urlsOf(
      'data.csv',
      'data.csv',
      'data-2.csv',
      'DATA-2.CSV',
      '',
      '',
      'result-6',
      '..%2F..',
      'data.csv'
    )
    const names = assignFileNames(urls)
    expect(names).toHaveLength(urls.length)
    expect(new Set(names.map(n => n.toLowerCase())).size).toBe(urls.length)
    for (const name of names) expectSafe(name)
  })

  it('uses result-<n> (1-based) as the fallback for unusable names', () => {
    expect(
      assignFileNames(['https://h.example/ok.csv', 'https://h.example/', 'https://h.example/..%2F'])
    ).toEqual(['ok.csv', 'result-2', 'result-3'])
  })

  it('returns an empty list for no URLs', () => {
    expect(assignFileNames([])).toEqual([])
  })
})

describe('assignFileNames and the .part files', () => {
  it('never gives a file the name of another file’s .part', () => {
    const urls = [
      'https://h/x.csv.part',
      'https://h/x.csv',
      'https://h/y.csv',
      'https://h/y.csv.part'
    ]
    const names = assignFileNames(urls)
    expect(new Set(names).size).toBe(4)
    for (const name of names) expect(names).not.toContain(`${name}.part`)
    expect(names[0]).toBe('x.csv.part')
    expect(names[2]).toBe('y.csv')
  })
})

describe('names safe on Windows, macOS and Linux runners', () => {
  const bytes = (name: string): number => Buffer.byteLength(name, 'utf8')
  /** The name given to a URL whose last path segment is `segment` (as it stands in the URL). */
  const nameOf = (segment: string): string =>
    fileNameFromUrl(`https://h.example/d/${segment}`, 'fb')
  const deviceNames: [string, string][] = [
    ['CON', '_CON'],
    ['con', '_con'],
    ['NUL.csv', '_NUL.csv'],
    ['nul.tar.gz', '_nul.tar.gz'],
    ['COM1.csv', '_COM1.csv'],
    ['com9', '_com9'],
    ['LPT9.txt', '_LPT9.txt'],
    ['Lpt1.CSV', '_Lpt1.CSV'],
    ['PRN.json', '_PRN.json'],
    ['AUX', '_AUX'],
    ['COM%C2%B9.csv', '_COM¹.csv'],
    ['CONIN%24', '_CONIN$'],
    ['NUL%20.csv', '_NUL .csv'],
    ['NUL.', '_NUL']
  ]

  it.each(deviceNames)('gives the Windows device name %s a prefix: %s', (segment, name) => {
    expect(nameOf(segment)).toBe(name)
  })

  it.each(['CONSOLE.csv', 'COM10.csv', 'LPT0.txt', 'xNUL.csv', 'nul_1.csv', 'AUXILIARY'])(
    'leaves %s, which is no device name, alone',
    segment => {
      expect(nameOf(segment)).toBe(segment)
    }
  )

  it.each([
    ['x.csv.', 'x.csv'],
    ['x.csv...', 'x.csv'],
    ['x.csv%20', 'x.csv'],
    ['x.csv.%20.', 'x.csv'],
    ['report%20.', 'report']
  ])('drops the trailing dots and spaces Windows would drop: %s', (segment, name) => {
    expect(nameOf(segment)).toBe(name)
  })

  it('keeps x.csv. and x.csv apart: they would be one file on Windows', () => {
    expect(assignFileNames(urlsOf('x.csv.', 'x.csv', 'X.CSV%20'))).toEqual([
      'x.csv',
      'x-2.csv',
      'X-3.CSV'
    ])
  })

  it('a 100-character CJK name fits in 255 bytes with its .part, keeping its extension', () => {
    const long = `${'数据文件'.repeat(25)}.csv`
    const name = nameOf(encodeURIComponent(long))
    expect(bytes(`${name}.part`)).toBeLessThanOrEqual(255)
    expect(name.endsWith('.csv')).toBe(true)
    expect(long.endsWith(name)).toBe(true)
    // Whole characters only: nothing cut in the middle of a character.
    expect(name).not.toContain('\ufffd')
    expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name)
  })

  it('keeps a long name within the limit when a duplicate takes a suffix', () => {
    const long = `${'é'.repeat(200)}.csv`
    const names = assignFileNames(urlsOf(long, long, long).map(u => encodeURI(u)))
    for (const name of names) {
      expect(bytes(`${name}.part`)).toBeLessThanOrEqual(255)
      expect(name.endsWith('.csv')).toBe(true)
    }
    expect(names[1]?.endsWith('-2.csv')).toBe(true)
    expect(names[2]?.endsWith('-3.csv')).toBe(true)
    expect(new Set(names).size).toBe(3)
  })

  it('splits no surrogate pair when it shortens', () => {
    const name = fileNameFromUrl(
      `https://h.example/d/${encodeURIComponent(`${'😀'.repeat(100)}.csv`)}`,
      'fb'
    )
    expect(bytes(`${name}.part`)).toBeLessThanOrEqual(255)
    expect(name).toBe(`${'😀'.repeat(61)}.csv`)
  })

  it('never takes the manifest or its .part', () => {
    const names = assignFileNames(
      urlsOf(
        'datafiniti-manifest.json',
        'DATAFINITI-MANIFEST.JSON',
        'datafiniti-manifest.json.part'
      )
    )
    expect(names).toEqual([
      'datafiniti-manifest-2.json',
      'DATAFINITI-MANIFEST-3.JSON',
      'datafiniti-manifest.json-2.part'
    ])
  })

  it('treats names that differ only in Unicode normalisation as one (macOS)', () => {
    const composed = encodeURIComponent('caf\u00e9.csv')
    const decomposed = encodeURIComponent('cafe\u0301.csv')
    expect(assignFileNames(urlsOf(composed, decomposed))).toEqual([
      'caf\u00e9.csv',
      'cafe\u0301-2.csv'
    ])
  })

  it('breaks up the old ##[ workflow command form in a name', () => {
    const name = nameOf('%23%23%5Badd-mask%5Dx.csv')
    expect(name).not.toContain('##[')
  })

  it.each(['\u2028', '\u0085', '\u202e', '\u2066'])(
    'replaces the separator or override %j',
    char => {
      expect(nameOf(`a${encodeURIComponent(char)}b.csv`)).toBe('a_b.csv')
    }
  )
})

describe('assignFileNames and the manifests', () => {
  it("never gives a result file a manifest's name, a shard's included", () => {
    const urls = [
      'https://h/b/datafiniti-manifest.json',
      'https://h/b/DATAFINITI-MANIFEST-shard-2-of-8.json',
      'https://h/b/datafiniti-manifest-shard-1-of-3.json.part'
    ]
    const names = assignFileNames(urls)
    for (const name of names)
      expect(name.toLowerCase()).not.toMatch(
        /^datafiniti-manifest(-shard-\d+-of-\d+)?\.json(\.part)?$/
      )
    expect(names[1]).toBe('DATAFINITI-MANIFEST-shard-2-of-8-2.json')
  })
})
