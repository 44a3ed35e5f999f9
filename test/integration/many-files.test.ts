/**
 * Downloads of 100+ files are normal for Datafiniti: 150 files through dist/index.js print nothing
 * on stderr, where Node's MaxListenersExceededWarning went when every file waiting for a connection
 * listened to one shared abort signal.
 */
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { printed } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import { fileHashes, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_many0f1les000'
const csv = awkwardCsv(20, 71)
const COUNT = 150

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      {
        id: 601,
        files: Array.from({ length: COUNT }, (_, i) => ({
          name: `601_${i + 1}.csv`,
          body: bufferBody(csv.body)
        }))
      }
    ]
  },
  { inputs: { [Inputs.Mode]: 'files', [Inputs.RequestId]: '601' } }
)

describe(`${COUNT} files`, () => {
  it.each(['4', '16', '64'])('at concurrency %s: all downloaded, nothing on stderr', async n => {
    const run = await world.run({ [Inputs.Concurrency]: n })
    expect(run.code, printed(run)).toBe(0)
    expect(run.stderr).not.toContain('MaxListenersExceededWarning')
    expect(run.stderr).toBe('')
    expect(run.outputs[Outputs.FileCount]).toBe(String(COUNT))
    expect(fileHashes(run)).toEqual(Array.from({ length: COUNT }, () => sha256(csv.body)))
    world.expectNoSecrets(run)
  })
})
