/**
 * File names that would break on one runner OS or another, through dist/index.js: Windows device
 * names, trailing dots and spaces, a name too long in UTF-8 bytes, and the manifest's own name.
 */
import { readdirSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Inputs } from '../../src/domain/action-io.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { printed } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import { fileHashes, outputFiles, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_f1lenam3s0000'
const bodies = [1, 2, 3, 4, 5, 6, 7].map(seed => awkwardCsv(10 + seed, 90 + seed).body)
const CJK = `${'数据文件'.repeat(25)}.csv`

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      {
        id: 801,
        files: ['CON', 'nul.csv', 'x.csv.', 'x.csv', 'X.CSV ', CJK, 'datafiniti-manifest.json'].map(
          (name, i) => ({ name, body: bufferBody(bodies[i] as Buffer) })
        )
      }
    ]
  },
  { inputs: { [Inputs.Mode]: 'files', [Inputs.RequestId]: '801' } }
)

describe('file names safe on Windows, macOS and Linux runners', () => {
  it('renames what a runner could not store, and keeps every file apart', async () => {
    const run = await world.run()
    expect(run.code, printed(run)).toBe(0)
    const names = outputFiles(run).map(file => path.basename(file))
    expect(names.slice(0, 5)).toEqual(['_CON', '_nul.csv', 'x.csv', 'x-2.csv', 'X-3.CSV'])
    expect(names[6]).toBe('datafiniti-manifest-2.json')
    const cjk = names[5] ?? ''
    expect(Buffer.byteLength(`${cjk}.part`)).toBeLessThanOrEqual(255)
    expect(CJK.endsWith(cjk)).toBe(true)
    // Every file is its own, and the manifest is the manifest.
    expect(fileHashes(run)).toEqual(bodies.map(sha256))
    const dir = path.join(run.workspace, 'datafiniti', '801')
    expect(readdirSync(dir).sort()).toEqual([...names, 'datafiniti-manifest.json'].sort())
    world.expectNoSecrets(run)
  })
})
