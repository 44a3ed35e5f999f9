/**
 * A re-run over a directory an earlier run filled, through dist/index.js: a local copy is kept only
 * when it is a regular file still holding the bytes the manifest says were verified for the host's
 * ETag (or, for a plain-MD5 ETag, bytes of that MD5). A same-size stale copy under a multipart ETag,
 * a copy without a record, and a symlink are downloaded again.
 */
import { mkdtempSync, readFileSync, lstatSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { printed, type ActionRun } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import { fileHashes, outputFiles, partFiles, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_r3run5tale000'
const csv = awkwardCsv(400, 81)
// As S3 labels an object uploaded in parts: not an MD5 of the bytes, so only a record can vouch.
const MULTIPART = '"9f1c0e5a7b3d2c4e6f8a0b1c2d3e4f50-4"'

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      { id: 701, files: [{ name: '701_1.csv', body: bufferBody(csv.body), etag: MULTIPART }] },
      { id: 702, files: [{ name: '702_1.csv', body: bufferBody(csv.body) }] }
    ]
  },
  { inputs: { [Inputs.Mode]: 'files' } }
)

/** The requests the file host saw for `name` since `from`: their Range headers. */
function rangesFor(name: string, from: number): (string | undefined)[] {
  return world.sim.log
    .slice(from)
    .filter(e => e.server === 'files' && e.path.split('?')[0]?.endsWith(`/${name}`))
    .map(e => e.headers.range)
}

/** A first run of `id` and, after `tamper` on its file, a second one in the same workspace. */
async function rerun(
  id: string,
  tamper: (file: string, dir: string) => void
): Promise<{ second: ActionRun; ranges: (string | undefined)[]; file: string }> {
  const first = await world.run({ [Inputs.RequestId]: id })
  expect(first.code, printed(first)).toBe(0)
  const [file] = outputFiles(first) as [string]
  tamper(file, path.dirname(file))
  const before = world.sim.log.length
  const second = await world.run({ [Inputs.RequestId]: id }, { workspace: first.workspace })
  expect(second.code, printed(second)).toBe(0)
  expect(fileHashes(second)).toEqual([sha256(csv.body)])
  expect(partFiles(path.dirname(file))).toEqual([])
  world.expectNoSecrets(second)
  return { second, ranges: rangesFor(path.basename(file), before), file }
}

/** Bytes of the same length as the file, but not its bytes: what a stale copy looks like. */
const staleCopy = (file: string): void => {
  const bytes = readFileSync(file)
  const at = bytes.length - 2
  bytes.writeUInt8((bytes.readUInt8(at) ^ 0x01) & 0xff, at)
  writeFileSync(file, bytes)
}

describe('re-run over a multipart-ETag file', () => {
  it('keeps the copy the manifest recorded: one-byte probe only', async () => {
    const { second, ranges } = await rerun('701', () => undefined)
    expect(ranges).toEqual(['bytes=0-0'])
    expect(second.stdout).toMatch(
      /701_1\.csv is already complete in .* \(size, ETag and sha256 match the manifest\): not downloaded again/
    )
  })

  it('downloads a same-size stale copy again', async () => {
    const { second, ranges } = await rerun('701', staleCopy)
    expect(ranges).toEqual(['bytes=0-0', undefined])
    expect(second.stdout).toContain(
      '701_1.csv: its bytes are not those verified when it was written (sha256): downloading it again'
    )
    expect(second.outputs[Outputs.RowCount]).toBe('400')
  })

  it('downloads again when no manifest says what was verified', async () => {
    const { second, ranges } = await rerun('701', (_file, dir) =>
      rmSync(path.join(dir, 'datafiniti-manifest.json'))
    )
    expect(ranges).toEqual(['bytes=0-0', undefined])
    expect(second.stdout).toContain(
      '701_1.csv: no record of what was verified when it was written, and no MD5 to check it by: downloading it again'
    )
  })
})

describe('re-run over a symlink', () => {
  it.each(['701', '702'])(
    'download %s: replaces the link with a downloaded file and leaves its target alone',
    async id => {
      const elsewhere = mkdtempSync(path.join(tmpdir(), 'elsewhere-'))
      const outside = path.join(elsewhere, 'outside.csv')
      try {
        // The link's target even holds the right bytes: a link is refused whatever it points to.
        writeFileSync(outside, csv.body)
        const { second, ranges, file } = await rerun(id, target => {
          rmSync(target)
          symlinkSync(outside, target)
        })
        // The disk check's one-byte probe, then the whole file.
        expect(ranges).toEqual(['bytes=0-0', undefined])
        expect(second.stdout).toMatch(
          new RegExp(`${id}_1\\.csv: .* is not a regular file: downloading it again`)
        )
        expect(lstatSync(file).isSymbolicLink()).toBe(false)
        expect(lstatSync(file).isFile()).toBe(true)
        expect(readFileSync(outside).equals(csv.body)).toBe(true)
      } finally {
        rmSync(elsewhere, { recursive: true, force: true })
      }
    }
  )
})
