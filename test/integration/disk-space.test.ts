/**
 * The disk check through dist/index.js, on a real file system of a size the test chooses (a
 * tmpfs): a download that does not fit fails before any file body is asked for, and says what
 * fits instead; with enough space, or as shards, the same download succeeds.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { failureOf, printed, type ActionRun } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import { fileHashes, useWorld } from '../helpers/world.js'
import { tmpfsUnavailable, useTmpfs } from '../helpers/tmpfs.js'

const TOKEN = 'tok_d15k_5pace_0001'
const MiB = 1024 * 1024
// About 1.3 MB in all: more than a 2 MiB disk holds with the check's 1 MiB margin.
const bodies = [81, 82, 83].map(seed => awkwardCsv(7000, seed).body)
const total = bodies.reduce((sum, body) => sum + body.length, 0)
const bytes = (n: number): string => `${n.toLocaleString('en-US')} bytes`

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      {
        id: 8080,
        files: bodies.map((body, i) => ({ name: `8080_${i + 1}.csv`, body: bufferBody(body) }))
      }
    ]
  },
  { inputs: { [Inputs.RequestId]: '8080', [Inputs.Mode]: 'files' } }
)

/** The file host's requests since `before`, by the range each asked for. */
const fileRanges = (before: number): (string | undefined)[] =>
  world.sim.log
    .slice(before)
    .filter(entry => entry.server === 'files')
    .map(entry => entry.headers.range)

const noTmpfs = tmpfsUnavailable()
// A skip says why, in the test's name and in the output: it is never silent.
if (noTmpfs !== undefined) console.warn(`disk space tests on a tmpfs skipped: ${noTmpfs}`)

describe.skipIf(noTmpfs !== undefined)(
  `disk space, on a 2 MiB tmpfs${noTmpfs ? ` — skipped: ${noTmpfs}` : ''}`,
  () => {
    const disk = useTmpfs(2 * MiB)
    let workspaces = 0
    /** A new workspace on the tmpfs (the runner's temp directory stays elsewhere). */
    const fresh = (): string => {
      const dir = path.join(disk.dir, `ws-${++workspaces}`)
      mkdirSync(dir)
      return dir
    }
    const run = (extra: Record<string, string>, workspace: string): Promise<ActionRun> =>
      world.run(extra, { workspace })

    it('fails before any file body is requested, naming the needed and free bytes and a shard count', async () => {
      expect(total).toBeGreaterThan(MiB)
      const workspace = fresh()
      const before = world.sim.log.length
      const result = await run({}, workspace)
      expect(result.code, printed(result)).not.toBe(0)
      const message = failureOf(result)
      expect(message).toContain(
        `Not enough disk space for the download in ${path.join(workspace, 'datafiniti', '8080')}`
      )
      expect(message).toContain(`They need ${(total / MiB).toFixed(1)} MiB (${bytes(total)})`)
      expect(message).toContain(`the file system has 2.0 MiB (${bytes(2 * MiB)}) free`)
      expect(message).toContain(
        "split it across matrix jobs: 'shard: K/N' with N = 2 or more, one job per K from 1 to N"
      )
      expect(message).toContain("or set 'path' to a directory on a larger disk")
      // Only the one-byte size probes reached the file host, and nothing was written.
      expect(fileRanges(before)).toEqual(['bytes=0-0', 'bytes=0-0', 'bytes=0-0'])
      expect(existsSync(path.join(workspace, 'datafiniti'))).toBe(false)
      world.expectNoSecrets(result)
    })

    it('fits as the shards it suggests: shard 1/2 and shard 2/2 each succeed on the same disk', async () => {
      for (const shard of ['1/2', '2/2']) {
        const workspace = fresh()
        const result = await run({ [Inputs.Shard]: shard }, workspace)
        expect(result.code, printed(result)).toBe(0)
        expect(result.stdout).toMatch(
          /Disk space in .*: \d file\(s\) to download, [\d.]+ KiB \([\d,]+ bytes\); .* free/
        )
        const index = Number(shard[0]) - 1
        expect(fileHashes(result)).toEqual(
          bodies.filter((_, i) => i % 2 === index).map(body => sha256(body))
        )
        // Each shard runs on a runner of its own: this one's disk is free again for the next.
        rmSync(workspace, { recursive: true, force: true })
      }
    })

    it('with enough space the same run succeeds; a re-run counts the complete files as done', async () => {
      const workspace = fresh()
      disk.resize(4 * MiB)
      const first = await run({}, workspace)
      expect(first.code, printed(first)).toBe(0)
      expect(fileHashes(first)).toEqual(bodies.map(body => sha256(body)))
      expect(first.outputs[Outputs.TotalBytes]).toBe(String(total))

      // Back to 2 MiB, with the files on it: less is free than they need, yet nothing is to fetch.
      disk.resize(2 * MiB)
      const before = world.sim.log.length
      const again = await run({}, workspace)
      expect(again.code, printed(again)).toBe(0)
      expect(again.stdout).toMatch(/0 file\(s\) to download; 3 already complete on disk; .* free/)
      expect(fileRanges(before)).toEqual(['bytes=0-0', 'bytes=0-0', 'bytes=0-0'])
      expect(fileHashes(again)).toEqual(bodies.map(body => sha256(body)))
      expect(readdirSync(path.join(workspace, 'datafiniti', '8080')).sort()).toEqual([
        '8080_1.csv',
        '8080_2.csv',
        '8080_3.csv',
        'datafiniti-manifest.json'
      ])
    })
  }
)
