import { existsSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { awkwardCsv } from '../../sim/data.js'
import { bufferBody, repeatBody } from '../../sim/simulator.js'
import { failureOf, printed, type ActionRun } from '../../sim/runner.js'
import { partFiles, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_9b8c7d6e5f4a3b2c'
const csv = awkwardCsv(2000, 21)

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      { id: 100, files: [{ name: '100_1.csv', body: bufferBody(csv.body) }] },
      { id: 101, pollsUntilComplete: 1, error: 'Query syntax error near "countr:"', files: [] },
      { id: 102, pollsUntilComplete: 1_000_000, numRequested: 95378, files: [] },
      { id: 103, files: [] },
      {
        id: 104,
        files: [
          { name: '104_1.csv', body: bufferBody(csv.body) },
          {
            name: '104_2.csv',
            body: bufferBody(csv.body),
            // The disk check's size probe passes; the download meets the 404.
            faults: [
              { pass: true },
              {
                status: 404,
                body: '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>'
              }
            ]
          }
        ]
      },
      {
        id: 107,
        resultsNotReady: 1_000_000,
        files: [{ name: '107_1.csv', body: bufferBody(csv.body) }]
      },
      {
        id: 109,
        // Big enough to be fetched as parallel ranges, never held in memory.
        files: [{ name: '109_1.csv', body: repeatBody(csv.body, csv.body, 1100) }]
      },
      {
        id: 108,
        requestFaults: [
          { status: 403, body: '{"error":"Forbidden","message":"Token revoked","code":403}' }
        ],
        files: []
      }
    ]
  },
  { artifacts: true, inputs: { [Inputs.Mode]: 'files' } }
)

function expectFailed(run: ActionRun, message: RegExp): void {
  expect(run.code, printed(run)).not.toBe(0)
  expect(failureOf(run)).toMatch(message)
  expect(printed(run)).not.toContain(TOKEN)
}

describe('bad input fails before any network call, naming the input and the expected form', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['missing token', { [Inputs.Token]: '' }, /Input 'token' is required/],
    [
      'token with a space',
      { [Inputs.Token]: 'abc def' },
      /Input 'token' must be a single Datafiniti API token/
    ],
    [
      'neither request-id nor query',
      {},
      /Give exactly one of the inputs 'request-id' \(an existing download request\) and 'query'.*; neither is set\./
    ],
    [
      'non-numeric request-id',
      { [Inputs.RequestId]: 'abc' },
      /Input 'request-id' must be a positive integer such as 6073 \(a v3 download request id\); got "abc"/
    ],
    [
      'zero request-id',
      { [Inputs.RequestId]: '0' },
      /Input 'request-id' must be a positive integer/
    ],
    [
      'unknown mode',
      { [Inputs.RequestId]: '100', [Inputs.Mode]: 'zip' },
      /Input 'mode' must be one of artifact, files, urls; got "zip"/
    ],
    [
      'api-url not a URL',
      { [Inputs.RequestId]: '100', [Inputs.ApiUrl]: 'api.datafiniti.co' },
      /Input 'api-url' must be an http\(s\) base URL/
    ],
    [
      'api-url with credentials',
      { [Inputs.RequestId]: '100', [Inputs.ApiUrl]: 'https://tok:@api.datafiniti.co' },
      /Input 'api-url'.*without credentials/
    ],
    [
      'poll-interval',
      { [Inputs.RequestId]: '100', [Inputs.PollInterval]: 'often' },
      /Input 'poll-interval' must be a duration.*\(for example 30s, 1\.5s, 10m, 2h\); got "often"/
    ],
    [
      'wait-timeout',
      { [Inputs.RequestId]: '100', [Inputs.WaitTimeout]: '10 days' },
      /Input 'wait-timeout' must be a duration/
    ],
    [
      'retention-days',
      { [Inputs.RequestId]: '100', [Inputs.RetentionDays]: '0' },
      /Input 'retention-days' must be a positive whole number of days .*; got "0"/
    ],
    [
      'compression-level',
      { [Inputs.RequestId]: '100', [Inputs.CompressionLevel]: '10' },
      /Input 'compression-level' must be a whole number from 0 to 9/
    ],
    [
      'concurrency',
      { [Inputs.RequestId]: '100', [Inputs.Concurrency]: '0' },
      /Input 'concurrency' must be a whole number from 1 to 64/
    ],
    [
      'artifact-name',
      { [Inputs.RequestId]: '100', [Inputs.ArtifactName]: 'a/b' },
      /Input 'artifact-name' must not contain/
    ]
  ]
  it.each(cases)('%s', async (_label, extra, message) => {
    const before = world.sim.log.length
    const run = await world.run(extra)
    expectFailed(run, message)
    expect(world.sim.log.length).toBe(before)
  })
})

describe('API failures', () => {
  it('says the token was rejected on 401, without retrying', async () => {
    const before = world.sim.log.length
    const run = await world.run({ [Inputs.RequestId]: '100', [Inputs.Token]: 'tok_wrong_one' })
    expectFailed(
      run,
      /Datafiniti rejected the token: GET \/v3\/requests\/100 answered HTTP 401.*Check the 'token' input/
    )
    expect(printed(run)).not.toContain('tok_wrong_one')
    expect(world.sim.log.length - before).toBe(1)
  })

  it('says the token was rejected on 403, quoting the API, without retrying', async () => {
    const before = world.sim.log.length
    const run = await world.run({ [Inputs.RequestId]: '108' })
    expectFailed(
      run,
      /Datafiniti rejected the token: GET \/v3\/requests\/108 answered HTTP 403 \(Forbidden: Token revoked\)/
    )
    expect(world.sim.log.length - before).toBe(1)
  })

  it('names an unknown request id', async () => {
    const run = await world.run({ [Inputs.RequestId]: '999' })
    expectFailed(run, /no download request 999 .*HTTP 400.*Check the 'request-id' input/)
  })

  it("quotes the request's error", async () => {
    const run = await world.run({ [Inputs.RequestId]: '101' })
    expectFailed(
      run,
      /download request 101 failed \(status COMPLETED\): "Query syntax error near \\?"countr:\\?""/
    )
  })

  it('gives up at wait-timeout with the last status and progress', async () => {
    const run = await world.run({ [Inputs.RequestId]: '102', [Inputs.WaitTimeout]: '400ms' })
    expectFailed(
      run,
      /Gave up after wait-timeout 400ms waiting for Datafiniti download request 102: last seen STARTED [\d,]+ \/ 95,378 records \(\d+%\)/
    )
    expect(failureOf(run)).toContain("raise 'wait-timeout'")
  })

  it('keeps polling while /results answers 404, until wait-timeout', async () => {
    const run = await world.run({ [Inputs.RequestId]: '107', [Inputs.WaitTimeout]: '400ms' })
    expectFailed(run, /last seen COMPLETED with no result files listed yet/)
  })

  it("fails a completed request without result files when 'if-no-results' is error", async () => {
    const run = await world.run({ [Inputs.RequestId]: '103', [Inputs.IfNoResults]: 'error' })
    expectFailed(run, /download request 103 is COMPLETED but lists no result files/)
  })
})

describe('file failures', () => {
  it('fails naming the file that cannot be fetched, and leaves no partial file', async () => {
    const run = await world.run({ [Inputs.RequestId]: '104', [Inputs.Concurrency]: '1' })
    expectFailed(
      run,
      /The file host has no 104_2\.csv \(127\.0\.0\.1:\d+\/…\/104_2\.csv\): HTTP 404 \(NoSuchKey: The specified key does not exist\.\)/
    )
    const dir = path.join(run.workspace, 'datafiniti', '104')
    expect(partFiles(dir)).toEqual([])
    expect(existsSync(path.join(dir, '104_2.csv'))).toBe(false)
    expect(run.outputs[Outputs.Files]).toBeUndefined()
  })
})

describe('disk failures', () => {
  it('fails at once when the disk refuses a write, naming the file, with nothing left behind', async () => {
    expect(csv.body.length).toBeGreaterThan(64 * 1024)
    const before = world.sim.log.length
    // 32 KiB: the first write past it fails with EFBIG, as a full disk fails with ENOSPC.
    const run = await world.run(
      { [Inputs.RequestId]: '100', [Inputs.Concurrency]: '1' },
      { fileSizeLimit: 32 * 1024 }
    )
    expectFailed(run, /Could not save 100_1\.csv to disk: EFBIG: file too large, write/)
    expect(run.stdout).not.toMatch(/retry/i)
    // The disk check's size probe, then the one download that the disk refused.
    const gets = world.sim.log.slice(before).filter(entry => entry.server === 'files')
    expect(gets.map(entry => entry.headers.range)).toEqual(['bytes=0-0', undefined])
    expect(partFiles(path.join(run.workspace, 'datafiniti', '100'))).toEqual([])
  })

  it('names the file too when a large file cannot have its size on disk (ranged download)', async () => {
    const run = await world.run(
      { [Inputs.RequestId]: '109', [Inputs.Concurrency]: '4' },
      { fileSizeLimit: 32 * 1024 }
    )
    expectFailed(run, /Could not save 109_1\.csv to disk: EFBIG: file too large, ftruncate/)
    expect(run.stdout).not.toMatch(/retry/i)
    expect(partFiles(path.join(run.workspace, 'datafiniti', '109'))).toEqual([])
  })
})

describe('artifact mode where it cannot run', () => {
  it('fails before any network call outside a runner', async () => {
    const before = world.sim.log.length
    const run = await world.run({ [Inputs.RequestId]: '100', [Inputs.Mode]: 'artifact' })
    expectFailed(run, /Artifact upload needs the GitHub Actions runtime .*Use 'mode: files'/)
    expect(world.sim.log.length).toBe(before)
  })

  it('fails before any network call on GitHub Enterprise Server', async () => {
    const before = world.sim.log.length
    const run = await world.run(
      { [Inputs.RequestId]: '100', [Inputs.Mode]: 'artifact' },
      { env: { ...world.backend.env, GITHUB_SERVER_URL: 'https://github.example.com' } }
    )
    expectFailed(
      run,
      /not supported on GitHub Enterprise Server \(https:\/\/github\.example\.com\).*Use 'mode: files'/
    )
    expect(world.sim.log.length).toBe(before)
  })
})
