/**
 * Large files download as parallel byte ranges: through dist/index.js against the simulator, with
 * the connection count watched on the file host and every byte checked.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { beforeAll, describe, expect, it } from 'vitest'
import { Environment, Inputs, Outputs } from '../../src/domain/action-io.js'
import { partSizeFor, planParts } from '../../src/transfer/ranged.js'
import { awkwardCsv, csvParts, sha256 } from '../../sim/data.js'
import { printed, type ActionRun } from '../../sim/runner.js'
import { bufferBody, repeatBody, type FileBody } from '../../sim/simulator.js'
import { outputFiles, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_ranged_0000'
const MiB = 1024 * 1024
const { header, block, records } = csvParts(2000, 61)
// About 150 MiB and 100 MiB of CSV with quoted line breaks: above the 64 MiB split threshold.
const timesFor = (bytes: number): number => Math.ceil(bytes / block.length)
const big = repeatBody(header, block, timesFor(150 * MiB))
const bigRecords = records * timesFor(150 * MiB)
const medium = repeatBody(header, block, timesFor(100 * MiB))
const small = awkwardCsv(500, 62)

async function hashBody(body: FileBody): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of body.stream(0, body.size)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}

const world = useWorld(
  {
    token: TOKEN,
    // As S3, a cap per connection (128 MiB/s): on an uncapped loopback link the first connection
    // is fast enough to take a large file alone (transfer/pace.ts), and nothing would be ranged.
    bytesPerSecond: 128 * 1024 * 1024,
    requests: [
      { id: 1, files: [{ name: '1_1.csv', body: big }] },
      {
        id: 2,
        files: [
          {
            name: '2_1.csv',
            body: big,
            // The first (plain) request goes through; the second, a range, is cut mid-way.
            // (After the disk check's size probe.)
            faults: [{ pass: true }, { pass: true }, { destroyAfter: 3 * MiB }]
          }
        ]
      },
      {
        id: 3,
        files: [
          { name: '3_1.csv', body: medium },
          ...[1, 2, 3, 4, 5].map(n => ({ name: `3_s${n}.csv`, body: bufferBody(small.body) })),
          { name: '3_2.csv', body: big }
        ]
      },
      { id: 4, files: [{ name: '4_1.csv', body: medium, noRanges: true }] },
      { id: 5, files: [1, 2, 3].map(n => ({ name: `5_${n}.csv`, body: medium })) }
    ]
  },
  { inputs: { [Inputs.Mode]: 'files' } }
)

let bigHash: string
let mediumHash: string

beforeAll(async () => {
  ;[bigHash, mediumHash] = await Promise.all([hashBody(big), hashBody(medium)])
})

function run(id: number, concurrency: number): Promise<ActionRun> {
  world.sim.fileConnections.max = 0
  return world.run(
    { [Inputs.RequestId]: String(id), [Inputs.Concurrency]: String(concurrency) },
    { timeoutMs: 120_000 }
  )
}

/** The ranges the download asked for, without the disk check's size probe. */
const rangesFor = (name: string): (string | undefined)[] =>
  world.sim.log
    .filter(e => e.server === 'files' && e.path.split('?')[0]?.endsWith(`/${name}`))
    .map(e => e.headers.range)
    .filter(range => range !== 'bytes=0-0')

describe('parallel ranged downloads', () => {
  it('splits a 150 MiB file into ranges over at most `concurrency` connections', async () => {
    const result = await run(1, 4)
    expect(result.code, printed(result)).toBe(0)
    const [file] = outputFiles(result)
    expect(await hashFile(file as string)).toBe(bigHash)
    expect(result.outputs[Outputs.TotalBytes]).toBe(String(big.size))
    expect(result.outputs[Outputs.RowCount]).toBe(String(bigRecords))
    const ranges = rangesFor('1_1.csv')
    expect(ranges[0]).toBeUndefined()
    expect(ranges.length).toBeGreaterThan(2)
    for (const range of ranges.slice(1)) expect(range).toMatch(/^bytes=\d+-\d+$/)
    expect(world.sim.fileConnections.max).toBeLessThanOrEqual(4)
    expect(world.sim.fileConnections.max).toBeGreaterThan(1)
    expect(result.stdout).toMatch(/1_1\.csv: \d+ parts of up to \d+ MiB over up to 4 connections/)
    // Every transfer on the action's own socket reader (HTTP/1.1's keep-alive, unsaid), unless
    // `npm run test:fallback` turned it off: then all through @actions/http-client (keep-alive).
    // The disk check's probe reads no body, and always goes through the client.
    const direct = process.env[Environment.DirectDownloads] !== 'false'
    const connections = world.sim.log
      .filter(e => e.server === 'files' && e.path.split('?')[0]?.endsWith('/1_1.csv'))
      .filter(e => e.headers.range !== 'bytes=0-0')
      .map(e => e.headers.connection)
    expect(new Set(connections)).toEqual(new Set([direct ? undefined : 'keep-alive']))
  })

  it('retries and resumes a part whose connection is cut, on its own', async () => {
    const result = await run(2, 4)
    expect(result.code, printed(result)).toBe(0)
    const [file] = outputFiles(result)
    expect(await hashFile(file as string)).toBe(bigHash)
    expect(result.stdout).toMatch(
      /Download of 2_1\.csv bytes \d+-\d+ from .* failed .*; retry 1 of 5/
    )
    expect(result.outputs[Outputs.RowCount]).toBe(String(bigRecords))
    // Only the cut part was asked for again, and from where it broke, not from its start.
    const parts = planParts(big.size, partSizeFor(big.size, 4))
    const ranges = rangesFor('2_1.csv')
    expect(ranges.filter(r => r === undefined)).toHaveLength(1)
    expect(ranges.filter(r => r !== undefined)).toHaveLength(parts.length)
    const starts = new Set(parts.map(p => p.start))
    const resumed = ranges.filter(
      r => r !== undefined && !starts.has(Number(/=(\d+)-/.exec(r)?.[1]))
    )
    expect(resumed).toHaveLength(1)
  })

  it('shares the connection budget between large files and small ones', async () => {
    const result = await run(3, 3)
    expect(result.code, printed(result)).toBe(0)
    expect(world.sim.fileConnections.max).toBeLessThanOrEqual(3)
    const files = outputFiles(result)
    const hashes = await Promise.all(files.map(hashFile))
    expect(hashes).toEqual([
      mediumHash,
      ...Array.from({ length: 5 }, () => sha256(small.body)),
      bigHash
    ])
    expect(rangesFor('3_s1.csv')).toEqual([undefined])
  })

  it('never deadlocks when every connection is held by a large file waiting for more', async () => {
    const result = await run(5, 2)
    expect(result.code, printed(result)).toBe(0)
    expect(world.sim.fileConnections.max).toBeLessThanOrEqual(2)
    const files = outputFiles(result)
    expect(await Promise.all(files.map(hashFile))).toEqual([mediumHash, mediumHash, mediumHash])
  })

  it('falls back to one stream where the host does not serve ranges', async () => {
    const result = await run(4, 8)
    expect(result.code, printed(result)).toBe(0)
    expect(rangesFor('4_1.csv')).toEqual([undefined])
    const [file] = outputFiles(result)
    expect(await hashFile(file as string)).toBe(mediumHash)
  })
})
