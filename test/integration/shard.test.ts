/**
 * `shard: K/N` through dist/index.js: three matrix jobs share a 7-file download, each uploads its
 * own artifact, and a merge job's view of them (every zip unpacked into one directory, as
 * `merge-multiple: true` does) is exactly the download.
 */
import * as path from 'node:path'
import AdmZip from 'adm-zip'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import type { Manifest } from '../../src/report/manifest.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { failureOf, printed, type ActionRun } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import { outputFiles, sha256File, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_5hard5hard5hard'
// Two names that differ only in case: one of them is renamed, and only numbering over the whole
// list gives it the same name in every shard.
const NAMES = [
  'dup.csv',
  'DUP.csv',
  '6073_3.csv',
  '6073_4.csv',
  '6073_5.csv',
  '6073_6.csv',
  '6073_7.csv'
]
const bodies = NAMES.map((_, i) => awkwardCsv(40 + 17 * i, 70 + i))

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      {
        id: 6073,
        files: NAMES.map((name, i) => ({
          name,
          body: bufferBody(bodies[i]?.body ?? Buffer.alloc(0))
        }))
      }
    ],
    queries: { 'country:US': { numFound: 10, files: () => [] } }
  },
  { artifacts: true }
)

interface Reference {
  /** Local names of the whole download, in API order. */
  names: string[]
  /** sha256 by local name. */
  hashes: Map<string, string>
}

/** The whole download in one job, without shard: what the shards must add up to. */
async function reference(): Promise<Reference> {
  const run = await world.run({ [Inputs.RequestId]: '6073', [Inputs.Mode]: 'files' })
  expect(run.code, printed(run)).toBe(0)
  const files = outputFiles(run)
  expect(files).toHaveLength(7)
  expect(run.outputs[Outputs.Shard]).toBe('')
  expect(run.outputs[Outputs.DownloadFileCount]).toBe('7')
  return {
    names: files.map(file => path.basename(file)),
    hashes: new Map(files.map(file => [path.basename(file), sha256File(file)]))
  }
}

/** The inputs of shard `shard` of download 6073. */
const byShard = (shard: string): Record<string, string> => ({
  [Inputs.RequestId]: '6073',
  [Inputs.Shard]: shard
})

const runShard = (shard: string, extra: Record<string, string> = {}): Promise<ActionRun> =>
  world.run({ ...byShard(shard), ...extra }, { env: world.backend.env })

describe('shard: K/N', () => {
  it('3 shards of a 7-file download: disjoint, together exactly the download, each reported as its shard', async () => {
    const whole = await reference()
    // Positions i with i mod 3 = K - 1, in the order the API lists the files.
    const expected = [
      [0, 3, 6],
      [1, 4],
      [2, 5]
    ].map(positions => positions.map(i => whole.names[i] ?? ''))
    const merged = new Map<string, Buffer>()

    for (const [k, names] of expected.entries()) {
      const index = k + 1
      const run = await runShard(`${index}/3`)
      expect(run.code, printed(run)).toBe(0)
      const files = outputFiles(run)
      expect(files.map(file => path.basename(file))).toEqual(names)
      expect(path.dirname(files[0] ?? '')).toBe(path.join(run.workspace, 'datafiniti', '6073'))
      expect(run.outputs[Outputs.Shard]).toBe(`${index}/3`)
      expect(run.outputs[Outputs.FileCount]).toBe(String(names.length))
      expect(run.outputs[Outputs.DownloadFileCount]).toBe('7')
      expect(JSON.parse(run.outputs[Outputs.Urls] ?? '[]')).toHaveLength(names.length)
      const body = (name: string) => bodies[whole.names.indexOf(name)]
      const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0)
      expect(run.outputs[Outputs.TotalBytes]).toBe(
        String(sum(names.map(name => body(name)?.body.length ?? NaN)))
      )
      expect(run.outputs[Outputs.RowCount]).toBe(
        String(sum(names.map(name => body(name)?.records ?? NaN)))
      )
      // The API counts the whole download's records; a shard's CSV rows are no count of records.
      expect(run.outputs[Outputs.RecordCount]).toBe('')
      expect(run.stdout).toContain(
        `This job is shard ${index} of 3: ${names.length} of the download's 7 result file(s)`
      )

      // Its own artifact, which `pattern: datafiniti-6073-shard-*` finds.
      const artifactName = `datafiniti-6073-shard-${index}-of-3`
      expect(world.backend.artifacts.get(artifactName)?.finalized).toBe(true)
      const entries = new AdmZip(await world.backend.download(artifactName)).getEntries()
      const manifestName = `datafiniti-manifest-shard-${index}-of-3.json`
      expect(entries.map(e => e.entryName).sort()).toEqual([...names, manifestName].sort())
      for (const entry of entries) {
        // What `merge-multiple: true` does: every artifact unpacked into one directory.
        expect(merged.has(entry.entryName), `${entry.entryName} in two shards`).toBe(false)
        merged.set(entry.entryName, entry.getData())
      }

      const manifest = JSON.parse(merged.get(manifestName)?.toString('utf8') ?? '{}') as Manifest
      expect(manifest.shard).toEqual({ index, count: 3, totalFiles: 7 })
      expect(manifest.files.map(f => f.name)).toEqual(names)
      expect(manifest.totals.files).toBe(names.length)

      expect(run.summary).toContain(
        `### Datafiniti download \`6073\`, shard ${index} of 3: \`COMPLETED\``
      )
      expect(run.summary).toContain(
        `Shard **${index}** of **3**: ${names.length} of the download's **7** result file(s)`
      )
      expect(run.summary).toContain(`[${artifactName}](`)
      world.expectNoSecrets(run)
    }

    // Together: exactly the 7 files, byte for byte, and each shard's manifest beside them.
    const dataNames = [...merged.keys()].filter(name => !name.startsWith('datafiniti-manifest'))
    expect(dataNames.sort()).toEqual([...whole.names].sort())
    for (const name of dataNames)
      expect(sha256(merged.get(name) ?? Buffer.alloc(0))).toBe(whole.hashes.get(name))
    expect(
      [...merged.keys()].filter(name => name.startsWith('datafiniti-manifest')).sort()
    ).toEqual([
      'datafiniti-manifest-shard-1-of-3.json',
      'datafiniti-manifest-shard-2-of-3.json',
      'datafiniti-manifest-shard-3-of-3.json'
    ])
  })

  it('a re-run of one shard takes the same files, whatever its concurrency', async () => {
    const first = await world.run({ ...byShard('2/3'), [Inputs.Mode]: 'files' })
    const again = await world.run({
      ...byShard('2/3'),
      [Inputs.Mode]: 'files',
      [Inputs.Concurrency]: '1'
    })
    for (const run of [first, again]) expect(run.code, printed(run)).toBe(0)
    const taken = (run: ActionRun): [string, string][] =>
      outputFiles(run).map(file => [path.basename(file), sha256File(file)])
    expect(taken(again)).toEqual(taken(first))
    expect(taken(first).map(([name]) => name)).toHaveLength(2)
    expect(again.outputs[Outputs.Shard]).toBe('2/3')
  })

  it('urls mode hands out only the shard’s URLs', async () => {
    const run = await world.run({ ...byShard('3/3'), [Inputs.Mode]: 'urls' })
    expect(run.code, printed(run)).toBe(0)
    const urls = JSON.parse(run.outputs[Outputs.Urls] ?? '[]') as string[]
    expect(
      urls.map(url => decodeURIComponent(new URL(url).pathname.split('/').at(-1) ?? ''))
    ).toEqual([NAMES[2], NAMES[5]])
    expect(run.outputs[Outputs.FileCount]).toBe('2')
    expect(run.outputs[Outputs.DownloadFileCount]).toBe('7')
  })
})

describe('bad shard input fails before any request', () => {
  const query = {
    [Inputs.Query]: 'country:US',
    [Inputs.DataType]: 'products',
    [Inputs.NumRecords]: '10'
  }
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'with query',
      { ...query, [Inputs.Shard]: '1/3' },
      /Input 'shard' cannot be used with 'query': every shard would create, and pay for, a download of its own\. .*'request-id' output/
    ],
    ['0/3', byShard('0/3'), /Input 'shard' must be K\/N: .*1 ≤ K ≤ N ≤ 256 .*; got "0\/3"\./],
    ['4/3', byShard('4/3'), /Input 'shard' must be K\/N: .*; got "4\/3"\./],
    ['1/0', byShard('1/0'), /Input 'shard' must be K\/N: .*; got "1\/0"\./],
    ['x/y', byShard('x/y'), /Input 'shard' must be K\/N: .*; got "x\/y"\./],
    ['257/300', byShard('257/300'), /Input 'shard' must be K\/N: .*; got "257\/300"\./]
  ]
  it.each(cases)('%s', async (_label, inputs, message) => {
    const before = world.sim.log.length
    const run = await world.run(inputs)
    expect(run.code, printed(run)).not.toBe(0)
    expect(failureOf(run)).toMatch(message)
    expect(world.sim.log.length - before).toBe(0)
    expect(world.sim.createCalls).toEqual([])
  })
})
