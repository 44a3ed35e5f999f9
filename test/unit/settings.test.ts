import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Defaults, Inputs, Limits } from '../../src/constants.js'
import { InputError, inputEnvName, parseSettings } from '../../src/settings.js'

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

function expectRejected(inputs: Record<string, string>, input: string, extra: Env = {}): string {
  const error = inputError(inputs, extra)
  expect(error.message).toContain(`'${input}'`)
  expect(error.message).not.toContain(TOKEN)
  return error.message
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
    expect(settings).toEqual({
      token: TOKEN,
      requestId: '6073',
      apiUrl: 'https://api.datafiniti.co',
      mode: 'artifact',
      downloadPath: path.join(WORKSPACE, 'datafiniti', '6073'),
      artifactName: 'datafiniti-6073',
      retentionDays: undefined,
      compressionLevel: 6,
      pollIntervalMs: 30_000,
      waitTimeoutMs: 3_600_000,
      concurrency: 4,
      maxRetries: 5,
      stallTimeoutMs: 60_000
    })
    expect(settings.apiUrl).toBe(Defaults.ApiUrl)
    expect(settings.compressionLevel).toBe(Defaults.CompressionLevel)
    expect(settings.concurrency).toBe(Defaults.Concurrency)
  })

  it('treats empty inputs as absent', () => {
    const settings = parse({
      [Inputs.ApiUrl]: '',
      [Inputs.Mode]: '  ',
      [Inputs.Path]: '',
      [Inputs.ArtifactName]: '',
      [Inputs.RetentionDays]: '',
      [Inputs.CompressionLevel]: '',
      [Inputs.PollInterval]: '',
      [Inputs.WaitTimeout]: '',
      [Inputs.Concurrency]: '',
      [Inputs.MaxRetries]: '',
      [Inputs.StallTimeout]: ''
    })
    expect(settings).toEqual(parse())
  })

  it('resolves the download path against the cwd when GITHUB_WORKSPACE is unset or empty', () => {
    expect(parseSettings(env({}, { GITHUB_WORKSPACE: undefined }), CWD).downloadPath).toBe(
      path.join(CWD, 'datafiniti', '6073')
    )
    expect(parseSettings(env({}, { GITHUB_WORKSPACE: '' }), CWD).downloadPath).toBe(
      path.join(CWD, 'datafiniti', '6073')
    )
  })

  it('resolves a relative path against the workspace and keeps an absolute one', () => {
    expect(parse({ [Inputs.Path]: 'out/data' }).downloadPath).toBe(
      path.join(WORKSPACE, 'out', 'data')
    )
    const absolute = path.resolve('/tmp/abs-dir')
    expect(parse({ [Inputs.Path]: absolute }).downloadPath).toBe(absolute)
    expect(path.isAbsolute(parse({ [Inputs.Path]: '.' }).downloadPath)).toBe(true)
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
      [Inputs.StallTimeout]: ' 90s '
    })
    expect(settings).toEqual({
      token: TOKEN,
      requestId: '42',
      apiUrl: 'https://example.com/api',
      mode: 'files',
      downloadPath: path.join(WORKSPACE, 'out'),
      artifactName: 'my-artifact',
      retentionDays: 5,
      compressionLevel: 0,
      pollIntervalMs: 10_000,
      waitTimeoutMs: 7_200_000,
      concurrency: 8,
      maxRetries: 2,
      stallTimeoutMs: 90_000
    })
  })

  it('strips leading zeros from the request id, also in the derived defaults', () => {
    const settings = parse({ [Inputs.RequestId]: '006073' })
    expect(settings.requestId).toBe('6073')
    expect(settings.artifactName).toBe('datafiniti-6073')
    expect(settings.downloadPath).toBe(path.join(WORKSPACE, 'datafiniti', '6073'))
    expect(parse({ [Inputs.RequestId]: '0100' }).requestId).toBe('100')
  })

  it('accepts a very long request id as a string without precision loss', () => {
    expect(parse({ [Inputs.RequestId]: '123456789012345678901' }).requestId).toBe(
      '123456789012345678901'
    )
  })

  it.each([
    ['FILES', 'files'],
    ['Urls', 'urls'],
    ['ARTIFACT', 'artifact'],
    ['files', 'files']
  ])('reads mode %j case-insensitively as %j', (raw, mode) => {
    expect(parse({ [Inputs.Mode]: raw }).mode).toBe(mode)
  })

  it.each([
    ['https://example.com/', 'https://example.com'],
    ['https://example.com', 'https://example.com'],
    ['https://example.com/api/', 'https://example.com/api'],
    ['https://example.com/api//', 'https://example.com/api'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['HTTPS://Example.COM/Api', 'https://example.com/Api']
  ])('normalises api-url %j to %j', (raw, expected) => {
    expect(parse({ [Inputs.ApiUrl]: raw }).apiUrl).toBe(expected)
  })

  it.each([
    ['1', 1],
    ['90', 90],
    ['30', 30]
  ])('accepts retention-days %j', (raw, days) => {
    expect(parse({ [Inputs.RetentionDays]: raw }).retentionDays).toBe(days)
  })

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

  it('requires the request id', () => {
    expect(expectRejected({ [Inputs.RequestId]: '' }, Inputs.RequestId)).toMatch(/required/)
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

  it.each(['zip', 'file', 'artifacts', 'url'])('rejects mode %j and lists the choices', raw => {
    const message = expectRejected({ [Inputs.Mode]: raw }, Inputs.Mode)
    expect(message).toContain('artifact, files, urls')
    expect(message).toContain(JSON.stringify(raw))
  })

  it('rejects a path with a NUL character', () => {
    expectRejected({ [Inputs.Path]: 'out\0dir' }, Inputs.Path)
  })

  it.each(['a:b', 'a/b', 'a\\b', 'a"b', 'a<b', 'a>b', 'a|b', 'a*b', 'a?b', 'a\nb', 'a\rb'])(
    'rejects artifact-name %j',
    raw => {
      expectRejected({ [Inputs.ArtifactName]: raw }, Inputs.ArtifactName)
    }
  )

  it.each(['0', '91', 'x', '-1', '1.5', '7d', '1e1'])('rejects retention-days %j', raw => {
    const message = expectRejected({ [Inputs.RetentionDays]: raw }, Inputs.RetentionDays)
    expect(message).toContain('from 1 to 90')
  })

  it.each(['10', '-1', 'x', '5.5', '99999999999999999999'])('rejects compression-level %j', raw => {
    const message = expectRejected({ [Inputs.CompressionLevel]: raw }, Inputs.CompressionLevel)
    expect(message).toContain('from 0 to 9')
  })

  it.each(['0', '65', 'many', '-4', '2.5'])('rejects concurrency %j', raw => {
    const message = expectRejected({ [Inputs.Concurrency]: raw }, Inputs.Concurrency)
    expect(message).toContain('from 1 to 64')
  })

  it.each(['21', '-1', 'x', '1.5'])('rejects max-retries %j', raw => {
    const message = expectRejected({ [Inputs.MaxRetries]: raw }, Inputs.MaxRetries)
    expect(message).toContain('from 0 to 20')
  })

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

  it('never echoes the token, whichever input is wrong', () => {
    const bad: Record<string, string> = {
      [Inputs.RequestId]: 'x',
      [Inputs.ApiUrl]: 'ftp://x',
      [Inputs.Mode]: 'zip',
      [Inputs.ArtifactName]: 'a:b',
      [Inputs.RetentionDays]: '0',
      [Inputs.CompressionLevel]: '10',
      [Inputs.PollInterval]: 'abc',
      [Inputs.WaitTimeout]: 'abc',
      [Inputs.Concurrency]: '0',
      [Inputs.MaxRetries]: '99',
      [Inputs.StallTimeout]: '0'
    }
    for (const [input, value] of Object.entries(bad)) {
      expectRejected({ [input]: value }, input)
    }
  })

  it('validates the token before the request id', () => {
    expectRejected({ [Inputs.Token]: '', [Inputs.RequestId]: '' }, Inputs.Token)
  })
})
