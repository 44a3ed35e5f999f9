/**
 * API v4 and downloads created from a query, through dist/index.js against the simulator: create,
 * wait, fetch, in every mode; the known API refusals; and that a create is never sent twice.
 */
import AdmZip from 'adm-zip'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { awkwardCsv, jsonLines, sha256 } from '../../sim/data.js'
import { annotations, failureOf, printed } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import { fileHashes, useWorld } from '../helpers/world.js'

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTAwMDEifQ.c2ln'
const V4_ID = '5f1e2d3c4b5a69788796a5b4'
const csv = awkwardCsv(900, 41)
const json = jsonLines(333, 42)

const world = useWorld(
  {
    token: TOKEN,
    previewLimit: 10_000,
    requests: [
      {
        id: V4_ID,
        pollsUntilComplete: 2,
        numRequested: 1233,
        files: [
          { name: `${V4_ID}_1.csv`, body: bufferBody(csv.body) },
          { name: `${V4_ID}_2.csv`, body: bufferBody(csv.body) }
        ]
      },
      {
        id: 'b0b0b0b0b0b0b0b0b0b0b0b0',
        dataFormat: 'json',
        files: [{ name: 'b0b0b0b0b0b0b0b0b0b0b0b0_1.txt', body: bufferBody(json.body) }]
      },
      {
        id: 'cancelled0000000000000000',
        pollsUntilComplete: 1,
        finalStatus: 'cancelled',
        files: []
      }
    ],
    queries: {
      'country:US AND city:Austin': {
        numFound: 900,
        pollsUntilComplete: 2,
        files: id => [{ name: `${id}_1.csv`, body: bufferBody(csv.body) }]
      },
      'categories:hotels': {
        numFound: 333,
        v3Answer: 'body',
        files: id => [{ name: `${id}_1.txt`, body: bufferBody(json.body) }]
      },
      'brand:Acme': { numFound: 50_000, files: () => [] },
      'slow:forever': { numFound: 5, pollsUntilComplete: 1_000_000, files: () => [] },
      'create:503': { numFound: 10, createFaults: [{ status: 503 }], files: () => [] },
      'create:hangup': { numFound: 10, createFaults: [{ hangUp: true }], files: () => [] },
      'polls:flaky': {
        numFound: 900,
        pollFaults: [{ status: 503 }, { status: 502 }],
        files: id => [{ name: `${id}_1.csv`, body: bufferBody(csv.body) }]
      }
    }
  },
  { artifacts: true, inputs: { [Inputs.Mode]: 'files' } }
)

/** The inputs of a run by v4 download id. */
const byV4Id = (id: string): Record<string, string> => ({
  [Inputs.ApiVersion]: 'v4',
  [Inputs.RequestId]: id
})

describe('API v4 by id', () => {
  it('waits through queued and running, then downloads with a Bearer token', async () => {
    const result = await world.run(byV4Id(V4_ID))
    expect(result.code, printed(result)).toBe(0)
    expect(result.stdout).toMatch(/queued 0 \/ 1,233 records \(0%\)/)
    expect(result.stdout).toMatch(/running \d[\d,]* \/ 1,233 records/)
    expect(result.outputs[Outputs.Status]).toBe('completed')
    expect(result.outputs[Outputs.RequestId]).toBe(V4_ID)
    expect(fileHashes(result)).toEqual([sha256(csv.body), sha256(csv.body)])
    expect(result.outputs[Outputs.RowCount]).toBe('1800')
    // The API's num_downloaded, not the rows.
    expect(result.outputs[Outputs.RecordCount]).toBe('1233')
    // v4 URLs carry their own expiry: X-Amz-Date + X-Amz-Expires (7 days).
    const expires = Date.parse(result.outputs[Outputs.ExpiresAt] ?? '')
    expect(Math.abs(expires - Date.now() - 7 * 86_400_000)).toBeLessThan(3_600_000)
    const apiCalls = world.sim.log.filter(
      e => e.server === 'api' && e.path.startsWith(`/v4/downloads/${V4_ID}`)
    )
    for (const call of apiCalls) expect(call.headers.authorization).toBe(`Bearer ${TOKEN}`)
    world.expectNoSecrets(result)
  })

  it('counts JSON records in v4 .txt files', async () => {
    const result = await world.run(byV4Id('b0b0b0b0b0b0b0b0b0b0b0b0'))
    expect(result.code, printed(result)).toBe(0)
    expect(fileHashes(result)).toEqual([sha256(json.body)])
    expect(result.outputs[Outputs.RowCount]).toBe('333')
  })

  it('fails a cancelled download, naming the status', async () => {
    const result = await world.run(byV4Id('cancelled0000000000000000'))
    expect(result.code).not.toBe(0)
    expect(failureOf(result)).toMatch(
      /download request cancelled0000000000000000 failed \(status cancelled\)/
    )
  })
})

describe('creating a download from a query', () => {
  const cases: ['v3' | 'v4', 'artifact' | 'files' | 'urls'][] = [
    ['v3', 'artifact'],
    ['v3', 'files'],
    ['v3', 'urls'],
    ['v4', 'artifact'],
    ['v4', 'files'],
    ['v4', 'urls']
  ]
  it.each(cases)(
    'API %s, %s mode: creates once, logs the id at once, then fetches',
    async (version, mode) => {
      const before = world.sim.created.length
      const result = await world.run(
        {
          [Inputs.ApiVersion]: version,
          [Inputs.Mode]: mode,
          [Inputs.Query]: 'country:US AND city:Austin',
          [Inputs.DataType]: 'properties',
          [Inputs.NumRecords]: '5000',
          [Inputs.View]: 'properties_flat'
        },
        { env: mode === 'artifact' ? world.backend.env : {} }
      )
      expect(result.code, printed(result)).toBe(0)
      expect(world.sim.created.length - before).toBe(1)
      const created = world.sim.created.at(-1)
      expect(created).toMatchObject({
        version,
        dataType: 'properties',
        query: 'country:US AND city:Austin',
        format: 'CSV',
        numRecords: 5000,
        view: 'properties_flat'
      })
      const id = created?.id ?? ''
      expect(result.outputs[Outputs.RequestId]).toBe(id)
      // The id is in the log before the wait starts, and the output is set before waiting too.
      const createdAt = result.stdout.indexOf(`Created download request ${id}`)
      expect(createdAt).toBeGreaterThan(-1)
      expect(createdAt).toBeLessThan(result.stdout.indexOf('::group::Wait for download request'))
      expect(result.outputs[Outputs.FileCount]).toBe('1')
      if (mode === 'urls') {
        expect(result.outputs[Outputs.Files]).toBe('[]')
      } else {
        expect(fileHashes(result)).toEqual([sha256(csv.body)])
        expect(result.outputs[Outputs.RecordCount]).toBe('900')
      }
      if (mode === 'artifact') {
        const zip = await world.backend.download(`datafiniti-${id}`)
        expect(
          new AdmZip(zip)
            .getEntries()
            .map(e => e.entryName)
            .sort()
        ).toEqual([`${id}_1.csv`, 'datafiniti-manifest.json'].sort())
      }
      world.expectNoSecrets(result)
    }
  )

  it('accepts a v3 create answered with the request object in the body, JSON format, num-records all', async () => {
    const before = world.sim.created.length
    const result = await world.run({
      [Inputs.Query]: 'categories:hotels',
      [Inputs.DataType]: 'businesses',
      [Inputs.Format]: 'json',
      [Inputs.NumRecords]: 'all'
    })
    expect(result.code, printed(result)).toBe(0)
    expect(world.sim.created.length - before).toBe(1)
    expect(world.sim.created.at(-1)).toMatchObject({
      format: 'JSON',
      numRecords: undefined,
      view: undefined
    })
    expect(fileHashes(result)).toEqual([sha256(json.body)])
    expect(result.outputs[Outputs.RecordCount]).toBe('333')
  })

  const noMatches =
    /The query matched no records, so Datafiniti created no download .*numRequested cannot be <= 0.*Check the 'query'/
  it.each(['v3', 'v4'] as const)(
    'API %s: a query matching nothing is a run with no results, as if-no-results says',
    async version => {
      const inputs = {
        [Inputs.ApiVersion]: version,
        [Inputs.Query]: 'nothing:matches',
        [Inputs.DataType]: 'products',
        [Inputs.NumRecords]: '10'
      }
      const quiet = await world.run(inputs)
      expect(quiet.code, printed(quiet)).toBe(0)
      expect(annotations(quiet, 'warning').join('\n')).toMatch(noMatches)
      expect(quiet.outputs[Outputs.RequestId]).toBe('')
      expect(quiet.outputs[Outputs.Status]).toBe('NO MATCHES')
      expect(quiet.outputs[Outputs.FileCount]).toBe('0')
      expect(quiet.outputs[Outputs.Manifest]).toBe('')
      expect(quiet.summary).toMatch(/^### Datafiniti download: `NO MATCHES`/)
      const strict = await world.run({ ...inputs, [Inputs.IfNoResults]: 'error' })
      expect(strict.code).not.toBe(0)
      expect(failureOf(strict)).toMatch(noMatches)
      expect(failureOf(strict)).toContain("as 'if-no-results: error' asks")
    }
  )

  const refusals: [string, string, string, RegExp][] = [
    [
      'a plan limit says to lower num-records',
      'brand:Acme',
      '20000',
      /Your Datafiniti plan does not allow this download .*HTTP 403.*exceeds preview record limit.*Lower 'num-records'/
    ]
  ]
  it.each(refusals.flatMap(refusal => (['v3', 'v4'] as const).map(v => [v, ...refusal] as const)))(
    'API %s: %s',
    async (version, _label, query, numRecords, message) => {
      const result = await world.run({
        [Inputs.ApiVersion]: version,
        [Inputs.Query]: query,
        [Inputs.DataType]: 'products',
        [Inputs.NumRecords]: numRecords
      })
      expect(result.code).not.toBe(0)
      expect(failureOf(result)).toMatch(message)
    }
  )
})

describe('the create call is never sent twice', () => {
  it.each([
    [
      'a 503',
      'create:503',
      /HTTP 503.*It was not retried, because a retry could create \(and charge for\) a second download/
    ],
    [
      'a dropped connection',
      'create:hangup',
      /Creating the download failed \((127\.0\.0\.1:\d+: )?(socket hang up|.*ECONNRESET.*)\), and the request may have reached Datafiniti: it may have created, and charged for, a download\. It was not sent again/
    ]
  ])('after %s: one call, and a clear failure', async (_label, query, message) => {
    const before = world.sim.createCalls.length
    const result = await world.run({
      [Inputs.Query]: query,
      [Inputs.DataType]: 'products',
      [Inputs.NumRecords]: '10'
    })
    expect(result.code).not.toBe(0)
    expect(world.sim.createCalls.length - before).toBe(1)
    expect(failureOf(result)).toMatch(message)
    expect(result.stdout).not.toMatch(/GET \/v3\/data\/products failed .*retry/)
  })

  it('while status polls are retried around it', async () => {
    const before = world.sim.createCalls.length
    const result = await world.run({
      [Inputs.Query]: 'polls:flaky',
      [Inputs.DataType]: 'products',
      [Inputs.NumRecords]: '900'
    })
    expect(result.code, printed(result)).toBe(0)
    expect(world.sim.createCalls.length - before).toBe(1)
    expect(result.stdout).toMatch(/GET \/v3\/requests\/\d+ failed \(.*HTTP 503.*\); retry 1 of 5/)
    expect(result.stdout).toMatch(/GET \/v3\/requests\/\d+ failed \(.*HTTP 502.*\); retry 2 of 5/)
  })

  it('sets the request-id output before waiting, so a timed-out run still names the download', async () => {
    const result = await world.run({
      [Inputs.Query]: 'slow:forever',
      [Inputs.DataType]: 'products',
      [Inputs.NumRecords]: '5',
      [Inputs.WaitTimeout]: '300ms'
    })
    expect(result.code).not.toBe(0)
    expect(failureOf(result)).toMatch(/Gave up after wait-timeout 300ms/)
    expect(result.outputs[Outputs.RequestId]).toBe(world.sim.created.at(-1)?.id)
  })
})

describe('query inputs are checked before any network call', () => {
  it.each([
    [
      'both request-id and query',
      {
        [Inputs.RequestId]: '6073',
        [Inputs.Query]: 'x',
        [Inputs.DataType]: 'products',
        [Inputs.NumRecords]: '1'
      },
      /Give exactly one of the inputs 'request-id' .* and 'query'.*; both are set\./
    ],
    [
      'num-records missing',
      { [Inputs.Query]: 'country:US', [Inputs.DataType]: 'products' },
      /Input 'num-records' is required with 'query'.*or 'all' to allow every match/
    ],
    [
      'data-type missing',
      { [Inputs.Query]: 'country:US', [Inputs.NumRecords]: '10' },
      /Input 'data-type' is required with 'query' and must be one of products, businesses, properties for API v3/
    ],
    [
      'people on v3',
      { [Inputs.Query]: 'x', [Inputs.DataType]: 'people', [Inputs.NumRecords]: '10' },
      /Input 'data-type' .*products, businesses, properties for API v3; got "people"/
    ],
    [
      'format',
      {
        [Inputs.Query]: 'x',
        [Inputs.DataType]: 'products',
        [Inputs.NumRecords]: '10',
        [Inputs.Format]: 'xml'
      },
      /Input 'format' must be CSV or JSON; got "xml"/
    ],
    [
      'api-version',
      { [Inputs.RequestId]: '1', [Inputs.ApiVersion]: 'v5' },
      /Input 'api-version' must be one of v3, v4; got "v5"/
    ],
    [
      'v4 id',
      { [Inputs.RequestId]: 'a b', [Inputs.ApiVersion]: 'v4' },
      /Input 'request-id' must be a v4 download id/
    ]
  ])('%s', async (_label, inputs, message) => {
    const before = world.sim.log.length
    const result = await world.run(inputs)
    expect(result.code).not.toBe(0)
    expect(failureOf(result)).toMatch(message)
    expect(world.sim.log.length).toBe(before)
  })
})
