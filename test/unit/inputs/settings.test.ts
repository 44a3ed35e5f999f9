import * as path from 'node:path'
import { artifactNameFor } from '../../../src/deliver/artifact-target.js'
import { describe, expect, it } from 'vitest'
import { Environment, Inputs, inputEnvName } from '../../../src/domain/action-io.js'
import { Defaults, Limits } from '../../../src/inputs/defaults.js'
import { InputError } from '../../../src/inputs/read.js'
import { downloadPathFor, parseSettings, type Settings } from '../../../src/inputs/settings.js'

const TOKEN = 'Tok3nSecretValue9'
const WORKSPACE = path.resolve('/home/runner/work/repo')
const CWD = path.resolve('/somewhere/else')

type Env = Record<string, string | undefined>

function env(inputs: Record<string, string> = {}, extra: Env = {}): Env {
  const all: Record<string, string> = {
    [Inputs.Token]: TOKEN,
    [Inputs.RequestId]: '6073',
    ...inputs
  }
  const out: Env = { GITHUB_WORKSPACE: WORKSPACE, ...extra }
  for (const [name, value] of Object.entries(all)) out[inputEnvName(name)] = value
  return out
}

function parse(inputs: Record<string, string> = {}, extra: Env = {}) {
  return parseSettings(env(inputs, extra), CWD)
}

/** Runs parseSettings expecting an InputError, and returns it. */
function inputError(inputs: Record<string, string>, extra: Env = {}): InputError {
  try {
    parse(inputs, extra)
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).name).toBe('InputError')
    return error as InputError
  }
  throw new Error(`expected an InputError for ${JSON.stringify(inputs)}`)
}

/** The download directory for the settings' own request id. */
function pathOf(settings: Settings): string {
  return downloadPathFor(settings, settings.requestId ?? '')
}

function expectRejected(inputs: Record<string, string>, input: string, extra: Env = {}): string {
  const error = inputError(inputs, extra)
  expect(error.message).toContain(`'${input}'`)
  expect(error.message).not.toContain(TOKEN)
  return error.message
}

/** The settings from the two required inputs alone: every default. */
const DEFAULTS: Settings = {
  token: TOKEN,
  apiVersion: 'v3',
  requestId: '6073',
  query: undefined,
  apiUrl: 'https://api.datafiniti.co',
  mode: 'artifact',
  workspace: WORKSPACE,
  path: '',
  artifactName: '',
  retentionDays: undefined,
  compressionLevel: 1,
  pollIntervalMs: 30_000,
  waitTimeoutMs: 3_600_000,
  concurrency: 4,
  maxRetries: 5,
  stallTimeoutMs: 60_000,
  artifactFallback: 'fail',
  ifNoResults: 'warn',
  overwrite: false,
  reuseRequest: true,
  requestKey: undefined,
  maxRecords: undefined,
  dryRun: false,
  directDownloads: true,
  window: undefined,
  githubToken: '',
  shard: undefined
}

/** One test per row: `input` set to the row's raw value is read as its value of `field`. */
function itReads<K extends keyof Settings>(
  input: string,
  field: K,
  title: string,
  rows: [string, Settings[K]][]
): void {
  it.each(rows)(title, (raw, expected) => {
    expect(parse({ [input]: raw })[field]).toBe(expected)
  })
}

/** One test per raw value: `input` set to it is refused, the message saying `choices` and the value. */
function itRefuses(input: string, title: string, raws: string[], choices: string): void {
  it.each(raws)(title, raw => {
    const message = expectRejected({ [input]: raw }, input)
    expect(message).toContain(choices)
    expect(message).toContain(JSON.stringify(raw))
  })
}

describe('inputEnvName', () => {
  it('upper-cases, keeps hyphens and turns spaces into underscores', () => {
    expect(inputEnvName('request-id')).toBe('INPUT_REQUEST-ID')
    expect(inputEnvName('token')).toBe('INPUT_TOKEN')
    expect(inputEnvName('my input')).toBe('INPUT_MY_INPUT')
  })
})

describe('parseSettings defaults', () => {
  it('fills in every default from the two required inputs', () => {
    const settings = parse()
    expect(settings).toEqual(DEFAULTS)
    expect(pathOf(settings)).toBe(path.join(WORKSPACE, 'datafiniti', '6073'))
    expect(artifactNameFor(settings, '6073')).toBe('datafiniti-6073')
    expect(settings.apiVersion).toBe(Defaults.ApiVersion)
    expect(settings.apiUrl).toBe(Defaults.ApiUrl)
    expect(settings.compressionLevel).toBe(Defaults.CompressionLevel)
    expect(settings.concurrency).toBe(Defaults.Concurrency)
  })

  it('treats empty inputs as absent', () => {
    const empty = [
      Inputs.ApiUrl,
      Inputs.Path,
      Inputs.ArtifactName,
      Inputs.RetentionDays,
      Inputs.CompressionLevel,
      Inputs.PollInterval,
      Inputs.WaitTimeout,
      Inputs.Concurrency,
      Inputs.MaxRetries,
      Inputs.StallTimeout,
      Inputs.ApiVersion,
      Inputs.Query,
      Inputs.DataType,
      Inputs.Format,
      Inputs.NumRecords,
      Inputs.View,
      Inputs.ArtifactFallback
    ]
    const settings = parse({
      ...Object.fromEntries(empty.map(input => [input, ''])),
      [Inputs.Mode]: '  '
    })
    expect(settings).toEqual(parse())
  })

  it('resolves the download path against the cwd when GITHUB_WORKSPACE is unset or empty', () => {
    const unset = parseSettings(env({}, { GITHUB_WORKSPACE: undefined }), CWD)
    expect(unset.workspace).toBe(CWD)
    expect(pathOf(unset)).toBe(path.join(CWD, 'datafiniti', '6073'))
    expect(pathOf(parseSettings(env({}, { GITHUB_WORKSPACE: '' }), CWD))).toBe(
      path.join(CWD, 'datafiniti', '6073')
    )
  })

  it('resolves a relative path against the workspace and keeps an absolute one', () => {
    expect(pathOf(parse({ [Inputs.Path]: 'out/data' }))).toBe(path.join(WORKSPACE, 'out', 'data'))
    const absolute = path.resolve('/tmp/abs-dir')
    expect(pathOf(parse({ [Inputs.Path]: absolute }))).toBe(absolute)
    expect(path.isAbsolute(pathOf(parse({ [Inputs.Path]: '.' })))).toBe(true)
  })

  it('reads only INPUT_ variables, not bare names', () => {
    const bare: Env = { token: TOKEN, 'request-id': '1', GITHUB_WORKSPACE: WORKSPACE }
    expect(() => parseSettings(bare, CWD)).toThrow(InputError)
  })
})

describe('parseSettings trimming and normalisation', () => {
  it('trims every input', () => {
    const settings = parse({
      [Inputs.Token]: `  ${TOKEN}\n`,
      [Inputs.RequestId]: ' 42 ',
      [Inputs.ApiUrl]: ' https://example.com/api/ ',
      [Inputs.Mode]: ' files ',
      [Inputs.Path]: ' out ',
      [Inputs.ArtifactName]: ' my-artifact ',
      [Inputs.RetentionDays]: ' 5 ',
      [Inputs.CompressionLevel]: ' 0 ',
      [Inputs.PollInterval]: ' 10s ',
      [Inputs.WaitTimeout]: ' 2h ',
      [Inputs.Concurrency]: ' 8 ',
      [Inputs.MaxRetries]: ' 2 ',
      [Inputs.StallTimeout]: ' 90s ',
      [Inputs.ApiVersion]: ' v3 ',
      [Inputs.ArtifactFallback]: ' files ',
      [Inputs.IfNoResults]: ' Error '
    })
    expect(settings).toEqual({
      ...DEFAULTS,
      requestId: '42',
      apiUrl: 'https://example.com/api',
      mode: 'files',
      path: 'out',
      artifactName: 'my-artifact',
      retentionDays: 5,
      compressionLevel: 0,
      pollIntervalMs: 10_000,
      waitTimeoutMs: 7_200_000,
      concurrency: 8,
      maxRetries: 2,
      stallTimeoutMs: 90_000,
      artifactFallback: 'files',
      ifNoResults: 'error'
    })
    expect(pathOf(settings)).toBe(path.join(WORKSPACE, 'out'))
    expect(artifactNameFor(settings, '42')).toBe('my-artifact')
  })

  it('strips leading zeros from the request id, also in the derived defaults', () => {
    const settings = parse({ [Inputs.RequestId]: '006073' })
    expect(settings.requestId).toBe('6073')
    expect(artifactNameFor(settings, settings.requestId ?? '')).toBe('datafiniti-6073')
    expect(pathOf(settings)).toBe(path.join(WORKSPACE, 'datafiniti', '6073'))
    expect(parse({ [Inputs.RequestId]: '0100' }).requestId).toBe('100')
  })

  it('accepts a very long request id as a string without precision loss', () => {
    expect(parse({ [Inputs.RequestId]: '123456789012345678901' }).requestId).toBe(
      '123456789012345678901'
    )
  })

  itReads(Inputs.Mode, 'mode', 'reads mode %j case-insensitively as %j', [
    ['FILES', 'files'],
    ['Urls', 'urls'],
    ['ARTIFACT', 'artifact'],
    ['files', 'files']
  ])

  itReads(Inputs.ApiUrl, 'apiUrl', 'normalises api-url %j to %j', [
    ['https://example.com/', 'https://example.com'],
    ['https://example.com', 'https://example.com'],
    ['https://example.com/api/', 'https://example.com/api'],
    ['https://example.com/api//', 'https://example.com/api'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['HTTPS://Example.COM/Api', 'https://example.com/Api']
  ])

  itReads(Inputs.RetentionDays, 'retentionDays', 'accepts retention-days %j', [
    ['1', 1],
    ['90', 90],
    ['30', 30]
  ])

  it('accepts compression levels 0 and 9 and concurrency 1 and 64', () => {
    expect(parse({ [Inputs.CompressionLevel]: '0' }).compressionLevel).toBe(0)
    expect(parse({ [Inputs.CompressionLevel]: '9' }).compressionLevel).toBe(9)
    expect(parse({ [Inputs.Concurrency]: '1' }).concurrency).toBe(1)
    expect(parse({ [Inputs.Concurrency]: '64' }).concurrency).toBe(Limits.MaxConcurrency)
  })

  it('accepts max-retries from 0 to 20', () => {
    expect(parse({ [Inputs.MaxRetries]: '0' }).maxRetries).toBe(0)
    expect(parse({ [Inputs.MaxRetries]: '20' }).maxRetries).toBe(Limits.MaxRetries)
  })

  it('accepts a stall-timeout of at least 100ms', () => {
    expect(parse({ [Inputs.StallTimeout]: '100ms' }).stallTimeoutMs).toBe(100)
    expect(parse({ [Inputs.StallTimeout]: '5m' }).stallTimeoutMs).toBe(300_000)
  })

  it('parses poll-interval and wait-timeout durations', () => {
    const settings = parse({ [Inputs.PollInterval]: '1.5s', [Inputs.WaitTimeout]: '1h30m' })
    expect(settings.pollIntervalMs).toBe(1_500)
    expect(settings.waitTimeoutMs).toBe(5_400_000)
    expect(parse({ [Inputs.PollInterval]: '45' }).pollIntervalMs).toBe(45_000)
    expect(parse({ [Inputs.PollInterval]: '10ms' }).pollIntervalMs).toBe(10)
  })

  it('accepts artifact names with spaces, dots and hyphens', () => {
    expect(parse({ [Inputs.ArtifactName]: 'Datafiniti data v1.2 - run' }).artifactName).toBe(
      'Datafiniti data v1.2 - run'
    )
  })
})

describe(`the ${Environment.DirectDownloads} environment variable`, () => {
  it.each([
    ['', true],
    ['true', true],
    [' FALSE ', false],
    ['false', false]
  ])('%j turns direct downloads %s', (value, direct) => {
    expect(parse({}, { [Environment.DirectDownloads]: value }).directDownloads).toBe(direct)
  })

  it('rejects anything else, naming the variable and the expected form', () => {
    expect(() => parse({}, { [Environment.DirectDownloads]: 'no' })).toThrow(
      `Environment variable ${Environment.DirectDownloads} must be true or false (unset means true); got "no".`
    )
  })
})

describe('parseSettings rejections', () => {
  it('requires the token and never echoes it', () => {
    const message = expectRejected({ [Inputs.Token]: '' }, Inputs.Token)
    expect(message).toMatch(/required/)
    expectRejected({ [Inputs.Token]: '   ' }, Inputs.Token)
  })

  it.each([
    ['a space', `${TOKEN} extra`],
    ['a colon', `${TOKEN}:password`],
    ['a line break', `${TOKEN}\nsecond`],
    ['a tab', `${TOKEN}\tsecond`]
  ])('rejects a token with %s without echoing it', (_what, token) => {
    const message = expectRejected({ [Inputs.Token]: token }, Inputs.Token)
    expect(message).not.toContain('extra')
    expect(message).not.toContain('password')
    expect(message).not.toContain('second')
  })

  it('requires one of request-id and query, naming both', () => {
    const message = expectRejected({ [Inputs.RequestId]: '' }, Inputs.RequestId)
    expect(message).toContain(`'${Inputs.Query}'`)
    expect(message).toContain('neither')
  })

  it.each(['abc', '0', '000', '-5', '12.5', '60 73', '1e3', '+5', '0x10', '６０７３'])(
    'rejects request-id %j',
    raw => {
      expectRejected({ [Inputs.RequestId]: raw }, Inputs.RequestId)
    }
  )

  it('quotes a bad request id in the message', () => {
    expect(expectRejected({ [Inputs.RequestId]: 'abc' }, Inputs.RequestId)).toContain('"abc"')
  })

  it('shortens a very long bad value in the message', () => {
    const message = expectRejected({ [Inputs.RequestId]: 'x'.repeat(500) }, Inputs.RequestId)
    expect(message).not.toContain('x'.repeat(61))
    expect(message).toContain('...')
  })

  it.each([
    ['not a url', 'not a url'],
    ['ftp scheme', 'ftp://example.com'],
    ['file scheme', 'file:///etc/passwd'],
    ['credentials', 'https://user:pass@example.com'],
    ['a user name only', 'https://user@example.com'],
    ['a query', 'https://example.com/?x=1'],
    ['a fragment', 'https://example.com/#top'],
    ['no scheme', 'api.datafiniti.co']
  ])('rejects api-url with %s', (_what, raw) => {
    expectRejected({ [Inputs.ApiUrl]: raw }, Inputs.ApiUrl)
  })

  itReads(Inputs.ApiUrl, 'apiUrl', 'accepts plain http for the loopback api-url %j', [
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://127.9.8.7', 'http://127.9.8.7'],
    ['http://localhost:3000/', 'http://localhost:3000'],
    ['http://[::1]:3000', 'http://[::1]:3000'],
    ['http://127.1:81', 'http://127.0.0.1:81']
  ])

  it.each([
    'http://api.datafiniti.co',
    'http://10.0.0.5:8080',
    'http://128.0.0.1',
    'http://localhost.example.com',
    'http://[::2]'
  ])('rejects plain http for the non-loopback api-url %j', raw => {
    const message = expectRejected({ [Inputs.ApiUrl]: raw }, Inputs.ApiUrl)
    expect(message).toContain('must use https')
    expect(message).toContain('loopback')
  })

  it('names the bad scheme', () => {
    expect(expectRejected({ [Inputs.ApiUrl]: 'ftp://example.com' }, Inputs.ApiUrl)).toContain(
      'ftp:'
    )
  })

  it('does not echo credentials embedded in the api-url', () => {
    const message = expectRejected(
      { [Inputs.ApiUrl]: `https://${TOKEN}:pw@example.com` },
      Inputs.ApiUrl
    )
    expect(message).toContain(`'${Inputs.Token}'`)
    expect(message).not.toContain('pw@')
  })

  // A token passed in the query (a common way to pass an API key) must not reach the log.
  it('does not echo a token passed in the api-url query', () => {
    expectRejected({ [Inputs.ApiUrl]: `https://api.datafiniti.co/?token=${TOKEN}` }, Inputs.ApiUrl)
  })

  itRefuses(
    Inputs.Mode,
    'rejects mode %j and lists the choices',
    ['zip', 'file', 'artifacts', 'url'],
    'artifact, files, urls'
  )

  it('rejects a path with a NUL character', () => {
    expectRejected({ [Inputs.Path]: 'out\0dir' }, Inputs.Path)
  })

  it.each(['a:b', 'a/b', 'a\\b', 'a"b', 'a<b', 'a>b', 'a|b', 'a*b', 'a?b', 'a\nb', 'a\rb'])(
    'rejects artifact-name %j',
    raw => {
      expectRejected({ [Inputs.ArtifactName]: raw }, Inputs.ArtifactName)
    }
  )

  // Whole numbers in a range: the message gives the range.
  const wholeNumbers: [string, string[], string][] = [
    [Inputs.RetentionDays, ['0', '100001', 'x', '-1', '1.5', '7d', '1e1'], 'positive whole number'],
    [Inputs.CompressionLevel, ['10', '-1', 'x', '5.5', '99999999999999999999'], 'from 0 to 9'],
    [Inputs.Concurrency, ['0', '65', 'many', '-4', '2.5'], 'from 1 to 64'],
    [Inputs.MaxRetries, ['21', '-1', 'x', '1.5'], 'from 0 to 20']
  ]
  for (const [input, raws, range] of wholeNumbers) {
    it.each(raws)(`rejects ${input} %j`, raw => {
      expect(expectRejected({ [input]: raw }, input)).toContain(range)
    })
  }

  it.each([
    [Inputs.StallTimeout, '99ms'],
    [Inputs.StallTimeout, 'never'],
    [Inputs.PollInterval, 'abc'],
    [Inputs.PollInterval, '10x'],
    [Inputs.PollInterval, '0'],
    [Inputs.PollInterval, '5ms'],
    [Inputs.PollInterval, '-1'],
    [Inputs.WaitTimeout, '1.5.5'],
    [Inputs.WaitTimeout, '1 hour'],
    [Inputs.WaitTimeout, '0s']
  ])('rejects %s %j', (input, raw) => {
    const message = expectRejected({ [input]: raw }, input)
    expect(message).toContain(JSON.stringify(raw))
  })

  it('validates the token before the request id', () => {
    expectRejected({ [Inputs.Token]: '', [Inputs.RequestId]: '' }, Inputs.Token)
  })
})

const QUERY = 'country:US AND city:"Austin"'

/** Inputs for a download created from a query (the default request-id removed). */
function queryInputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    [Inputs.RequestId]: '',
    [Inputs.Query]: QUERY,
    [Inputs.DataType]: 'products',
    [Inputs.NumRecords]: '100',
    ...extra
  }
}

describe('parseSettings: request-id or query', () => {
  it('rejects neither, naming both inputs', () => {
    const message = expectRejected({ [Inputs.RequestId]: '  ' }, Inputs.RequestId)
    expect(message).toContain(`'${Inputs.Query}'`)
    expect(message).toContain('neither is set')
  })

  it('rejects both, naming both inputs', () => {
    const message = expectRejected({ ...queryInputs(), [Inputs.RequestId]: '6073' }, Inputs.Query)
    expect(message).toContain(`'${Inputs.RequestId}'`)
    expect(message).toContain('both are set')
  })

  it('rejects both for v4 as well', () => {
    const message = expectRejected(
      { ...queryInputs(), [Inputs.RequestId]: 'abc', [Inputs.ApiVersion]: 'v4' },
      Inputs.RequestId
    )
    expect(message).toContain('both are set')
  })

  it('reads a query with its defaults and leaves requestId undefined', () => {
    const settings = parse(queryInputs())
    expect(settings.requestId).toBeUndefined()
    expect(settings.query).toEqual({
      query: QUERY,
      dataType: 'products',
      format: 'CSV',
      numRecords: 100,
      view: undefined
    })
  })

  it('trims the query but keeps its inner spacing and quotes', () => {
    const settings = parse(queryInputs({ [Inputs.Query]: `  ${QUERY}\n` }))
    expect(settings.query?.query).toBe(QUERY)
  })

  it('leaves query undefined with a request id', () => {
    expect(parse().query).toBeUndefined()
  })
})

describe('parseSettings: query inputs', () => {
  it.each(['products', 'businesses', 'properties'])('accepts data-type %j for v3', type => {
    expect(parse(queryInputs({ [Inputs.DataType]: type })).query?.dataType).toBe(type)
  })

  it.each(['products', 'businesses', 'properties', 'people'])(
    'accepts data-type %j for v4',
    type => {
      const settings = parse(queryInputs({ [Inputs.DataType]: type, [Inputs.ApiVersion]: 'v4' }))
      expect(settings.apiVersion).toBe('v4')
      expect(settings.query?.dataType).toBe(type)
    }
  )

  it('reads data-type case-insensitively', () => {
    expect(parse(queryInputs({ [Inputs.DataType]: ' Businesses ' })).query?.dataType).toBe(
      'businesses'
    )
  })

  it('rejects people for v3 and lists the v3 types', () => {
    const message = expectRejected(queryInputs({ [Inputs.DataType]: 'people' }), Inputs.DataType)
    expect(message).toContain('products, businesses, properties')
    expect(message).not.toContain('people,')
    expect(message).toContain('v3')
    expect(message).toContain('"people"')
  })

  it('lists people among the v4 types', () => {
    const message = expectRejected(
      queryInputs({ [Inputs.DataType]: 'cars', [Inputs.ApiVersion]: 'v4' }),
      Inputs.DataType
    )
    expect(message).toContain('products, businesses, properties, people')
    expect(message).toContain('"cars"')
  })

  it.each(['', 'product', 'all'])('rejects data-type %j with a query', raw => {
    const message = expectRejected(queryInputs({ [Inputs.DataType]: raw }), Inputs.DataType)
    expect(message).toMatch(/required/)
    expect(message).toContain(`'${Inputs.Query}'`)
  })

  it.each([
    ['1', 1],
    ['1000', 1000],
    [' 25 ', 25],
    ['007', 7]
  ])('accepts num-records %j', (raw, n) => {
    expect(parse(queryInputs({ [Inputs.NumRecords]: raw })).query?.numRecords).toBe(n)
  })

  it.each(['all', 'ALL', ' All '])('accepts num-records %j as all', raw => {
    expect(parse(queryInputs({ [Inputs.NumRecords]: raw })).query?.numRecords).toBe('all')
  })

  it.each(['0', '000', 'x', '-5', '1.5', '1e3', '99999999999999999999', 'every'])(
    'rejects num-records %j',
    raw => {
      const message = expectRejected(queryInputs({ [Inputs.NumRecords]: raw }), Inputs.NumRecords)
      expect(message).toContain("'all'")
      expect(message).toContain(JSON.stringify(raw))
    }
  )

  it('requires num-records with a query', () => {
    const inputs = Object.fromEntries(
      Object.entries(queryInputs()).filter(([name]) => name !== Inputs.NumRecords)
    )
    const message = expectRejected(inputs, Inputs.NumRecords)
    expect(message).toMatch(/required/)
    expectRejected(queryInputs({ [Inputs.NumRecords]: '  ' }), Inputs.NumRecords)
  })

  it.each([
    ['json', 'JSON'],
    ['JSON', 'JSON'],
    ['Json', 'JSON'],
    ['csv', 'CSV'],
    [' CSV ', 'CSV'],
    ['', 'CSV']
  ])('reads format %j as %j', (raw, format) => {
    expect(parse(queryInputs({ [Inputs.Format]: raw })).query?.format).toBe(format)
  })

  it.each(['xml', 'ndjson', 'tsv'])('rejects format %j', raw => {
    const message = expectRejected(queryInputs({ [Inputs.Format]: raw }), Inputs.Format)
    expect(message).toContain('CSV or JSON')
    expect(message).toContain(JSON.stringify(raw))
  })

  it('passes view through, trimmed, and leaves an empty one undefined', () => {
    expect(parse(queryInputs({ [Inputs.View]: ' product_basic ' })).query?.view).toBe(
      'product_basic'
    )
    expect(parse(queryInputs({ [Inputs.View]: '' })).query?.view).toBeUndefined()
  })

  it('does not validate format with a request id (its default is always set)', () => {
    expect(parse({ [Inputs.Format]: 'CSV' }).query).toBeUndefined()
  })

  it.each([
    [Inputs.DataType, 'products'],
    [Inputs.NumRecords, '10'],
    [Inputs.View, 'product_basic']
  ])('rejects %s without a query', (input, value) => {
    const message = expectRejected({ [input]: value }, input)
    expect(message).toContain(`'${Inputs.Query}'`)
    expect(message).toContain(`'${Inputs.RequestId}'`)
  })
})

describe('parseSettings: api-version and request ids', () => {
  it.each([
    ['v3', 'v3'],
    ['v4', 'v4'],
    ['V4', 'v4'],
    [' v4 ', 'v4']
  ])('reads api-version %j as %j', (raw, version) => {
    expect(parse({ [Inputs.ApiVersion]: raw, [Inputs.RequestId]: '6073' }).apiVersion).toBe(version)
  })

  itRefuses(Inputs.ApiVersion, 'rejects api-version %j', ['v2', 'v5', '4', 'latest'], 'v3, v4')

  it.each([
    '5f1e2d3c4b5a69788796a5b4',
    'abc',
    '6073',
    '006073',
    'a.b_c-d~e',
    '.hidden',
    'x'.repeat(200)
  ])('accepts v4 request-id %j unchanged', raw => {
    expect(parse({ [Inputs.ApiVersion]: 'v4', [Inputs.RequestId]: raw }).requestId).toBe(raw)
  })

  it.each(['a b', '../x', '..', '.', '...', 'a/b', 'a\\b', 'a?b', 'a%20b', 'é', 'x'.repeat(201)])(
    'rejects v4 request-id %j',
    raw => {
      const message = expectRejected(
        { [Inputs.ApiVersion]: 'v4', [Inputs.RequestId]: raw },
        Inputs.RequestId
      )
      expect(message).toContain('v4 download id')
    }
  )

  it('rejects a non-numeric v3 request id with the v3 message', () => {
    const message = expectRejected({ [Inputs.RequestId]: 'abc' }, Inputs.RequestId)
    expect(message).toContain('positive integer')
    expect(message).toContain('v3')
    expect(message).not.toContain('v4 download id')
    expect(message).toContain('"abc"')
  })

  it('accepts under v4 an id that v3 refuses', () => {
    expectRejected({ [Inputs.RequestId]: '5f1e2d3c4b5a69788796a5b4' }, Inputs.RequestId)
    expect(
      parse({ [Inputs.ApiVersion]: 'v4', [Inputs.RequestId]: '5f1e2d3c4b5a69788796a5b4' }).requestId
    ).toBe('5f1e2d3c4b5a69788796a5b4')
  })
})

describe('parseSettings: artifact-fallback', () => {
  itReads(Inputs.ArtifactFallback, 'artifactFallback', 'reads %j as %j', [
    ['', 'fail'],
    ['fail', 'fail'],
    ['FAIL', 'fail'],
    ['files', 'files'],
    ['Files', 'files']
  ])

  itRefuses(Inputs.ArtifactFallback, 'rejects %j', ['skip', 'urls', 'true'], 'fail or files')
})

describe('parseSettings: if-no-results', () => {
  itReads(Inputs.IfNoResults, 'ifNoResults', 'reads %j as %j', [
    ['', 'warn'],
    ['warn', 'warn'],
    ['ERROR', 'error'],
    ['ignore', 'ignore']
  ])

  itRefuses(
    Inputs.IfNoResults,
    'rejects %j, naming the three values',
    ['fail', 'true', 'skip'],
    'warn, error, ignore'
  )
})

describe('downloadPathFor and artifactNameFor', () => {
  it('default to datafiniti/<id> in the workspace and datafiniti-<id>', () => {
    const settings = parse(queryInputs())
    expect(settings.path).toBe('')
    expect(settings.artifactName).toBe('')
    expect(downloadPathFor(settings, '6073')).toBe(path.join(WORKSPACE, 'datafiniti', '6073'))
    expect(artifactNameFor(settings, '6073')).toBe('datafiniti-6073')
  })

  it('use the id known only after creating the download', () => {
    const settings = parse(queryInputs())
    expect(downloadPathFor(settings, '777')).toBe(path.join(WORKSPACE, 'datafiniti', '777'))
    expect(artifactNameFor(settings, '777')).toBe('datafiniti-777')
  })

  it('keep the characters a name may hold and replace the rest of a v4 id with _', () => {
    const settings = parse({ [Inputs.ApiVersion]: 'v4', [Inputs.RequestId]: 'a.b_c-d~e' })
    expect(artifactNameFor(settings, 'a.b_c-d~e')).toBe('datafiniti-a.b_c-d_e')
    expect(downloadPathFor(settings, 'a.b_c-d~e')).toBe(
      path.join(WORKSPACE, 'datafiniti', 'a.b_c-d_e')
    )
    expect(artifactNameFor(settings, 'x/y:z')).toBe('datafiniti-x_y_z')
    expect(downloadPathFor(settings, 'x/y')).toBe(path.join(WORKSPACE, 'datafiniti', 'x_y'))
    expect(artifactNameFor(settings, '5f1e2d3c4b5a69788796a5b4')).toBe(
      'datafiniti-5f1e2d3c4b5a69788796a5b4'
    )
  })

  it('use the path and artifact-name inputs as given, whatever the id', () => {
    const settings = parse({ [Inputs.Path]: 'out/data', [Inputs.ArtifactName]: 'my data' })
    expect(settings.path).toBe('out/data')
    expect(downloadPathFor(settings, '6073')).toBe(path.join(WORKSPACE, 'out', 'data'))
    expect(downloadPathFor(settings, '9')).toBe(path.join(WORKSPACE, 'out', 'data'))
    expect(artifactNameFor(settings, '6073')).toBe('my data')
    const absolute = path.resolve('/tmp/abs-dir')
    expect(downloadPathFor(parse({ [Inputs.Path]: absolute }), '6073')).toBe(absolute)
  })

  // Defence in depth: created ids are validated too, but a dot-only id must never climb out.
  it('keeps a dot-only id (as create could return) inside datafiniti/', () => {
    const settings = parse(queryInputs({ [Inputs.ApiVersion]: 'v4' }))
    const dir = downloadPathFor(settings, '..')
    expect(dir.startsWith(path.join(WORKSPACE, 'datafiniti') + path.sep)).toBe(true)
  })

  it.each(['CON', 'con', 'PRN', 'aux', 'NUL', 'nul.tar', 'COM1', 'com9.x', 'LPT1', 'lpt3.csv'])(
    'puts a _ before a v4 id that Windows takes for a device (%s), as before a file name',
    id => {
      const settings = parse(queryInputs({ [Inputs.ApiVersion]: 'v4' }))
      expect(downloadPathFor(settings, id)).toBe(path.join(WORKSPACE, 'datafiniti', `_${id}`))
      expect(artifactNameFor(settings, id)).toBe(`datafiniti-_${id}`)
    }
  )

  it.each(['CONSOLE', 'COM10', 'LPT0', 'nullable', 'x.CON'])('leaves %s as it is', id => {
    const settings = parse(queryInputs({ [Inputs.ApiVersion]: 'v4' }))
    expect(downloadPathFor(settings, id)).toBe(path.join(WORKSPACE, 'datafiniti', id))
  })
})

describe('parseSettings never echoes the token', () => {
  it.each([
    [Inputs.ApiVersion, { [Inputs.ApiVersion]: 'v9' }],
    [Inputs.RequestId, { [Inputs.RequestId]: '' }],
    [Inputs.RequestId, { [Inputs.RequestId]: 'x' }],
    [Inputs.ApiUrl, { [Inputs.ApiUrl]: 'ftp://x' }],
    [Inputs.Mode, { [Inputs.Mode]: 'zip' }],
    [Inputs.Query, { ...queryInputs(), [Inputs.RequestId]: '1' }],
    [Inputs.ArtifactName, { [Inputs.ArtifactName]: 'a:b' }],
    [Inputs.RetentionDays, { [Inputs.RetentionDays]: '0' }],
    [Inputs.CompressionLevel, { [Inputs.CompressionLevel]: '10' }],
    [Inputs.PollInterval, { [Inputs.PollInterval]: 'abc' }],
    [Inputs.RequestId, { [Inputs.ApiVersion]: 'v4', [Inputs.RequestId]: '../x' }],
    [Inputs.WaitTimeout, { [Inputs.WaitTimeout]: 'abc' }],
    [Inputs.Concurrency, { [Inputs.Concurrency]: '0' }],
    [Inputs.MaxRetries, { [Inputs.MaxRetries]: '99' }],
    [Inputs.StallTimeout, { [Inputs.StallTimeout]: '0' }],
    [Inputs.DataType, queryInputs({ [Inputs.DataType]: 'cars' })],
    [Inputs.NumRecords, queryInputs({ [Inputs.NumRecords]: '0' })],
    [Inputs.Format, queryInputs({ [Inputs.Format]: 'xml' })],
    [Inputs.View, { [Inputs.View]: 'v' }],
    [Inputs.ArtifactFallback, { [Inputs.ArtifactFallback]: 'skip' }]
  ])('when %s is wrong', (input, inputs) => {
    expectRejected(inputs, input)
  })

  it('does not echo the query (which may hold anything) in a query-input error', () => {
    const message = expectRejected(
      queryInputs({ [Inputs.Query]: `secret-stuff ${TOKEN}`, [Inputs.NumRecords]: 'x' }),
      Inputs.NumRecords
    )
    expect(message).not.toContain('secret-stuff')
  })
})

describe('review fixes', () => {
  it('refuses a token with non-ASCII characters, naming the input but not the value', () => {
    const error = inputError({ [Inputs.Token]: 'tökén-secret-value' })
    expect(error.message).toContain(`'${Inputs.Token}'`)
    expect(error.message).toContain('printable ASCII')
    expect(error.message).not.toContain('tökén-secret-value')
  })

  it('checks format also without a query (it has a default, so only its value can be wrong)', () => {
    expect(inputError({ [Inputs.Format]: 'xml' }).message).toContain(
      `Input '${Inputs.Format}' must be CSV or JSON`
    )
    expect(parse({ [Inputs.Format]: 'json' }).requestId).toBe('6073')
  })

  it('refuses durations past 24 days, which Node timers cannot hold', () => {
    expect(inputError({ [Inputs.StallTimeout]: '600h' }).message).toContain('to 24 days')
    expect(parse({ [Inputs.WaitTimeout]: '576h' }).waitTimeoutMs).toBe(576 * 3_600_000)
  })
})
