/**
 * Behaviour that only unit tests held, now through dist/index.js: a failing artifact listing
 * warns and the run goes on; a `Retry-After` above the backoff ceiling is honoured (and one above
 * five minutes taken as five); the sha256 the manifest gives a resumed file is that of its bytes.
 */
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { MANIFEST_NAME } from '../../src/domain/model.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { annotations, failureOf, printed, type ActionRun } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import { fileHashes, partFiles, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_th1n5p0t5000'
const big = awkwardCsv(20_000, 93) // about 1.2 MB: large enough to cut mid-body
const small = awkwardCsv(100, 94)

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      { id: 801, files: [{ name: '801_1.csv', body: bufferBody(small.body) }] },
      {
        id: 802,
        requestFaults: [{ status: 429, headers: { 'Retry-After': '45' } }],
        files: [{ name: '802_1.csv', body: bufferBody(small.body) }]
      },
      {
        id: 803,
        files: [
          {
            name: '803_1.csv',
            body: bufferBody(small.body),
            faults: [{ pass: true }, { status: 503, headers: { 'Retry-After': '600' } }]
          }
        ]
      },
      {
        id: 804,
        files: [
          {
            name: '804_1.csv',
            body: bufferBody(big.body),
            faults: [{ pass: true }, { destroyAfter: 400_000 }]
          }
        ]
      }
    ]
  },
  { artifacts: true }
)

/** SIGTERM as soon as the retry warning is out: the wait it names is the point, not its end. */
async function untilRetry(inputs: Record<string, string>): Promise<ActionRun> {
  return world.run(inputs, {
    env: world.backend.env,
    onStart: (child, output) => {
      const timer = setInterval(() => {
        if (/::warning::.*retry 1 of/.test(output())) {
          clearInterval(timer)
          child.kill('SIGTERM')
        }
      }, 20)
    }
  })
}

describe('a failing artifact listing', () => {
  it('warns that the name could not be checked, and the run uploads all the same', async () => {
    world.backend.failListing = true
    try {
      const run = await world.run(
        { [Inputs.RequestId]: '801', [Inputs.ArtifactName]: 'listing-fails' },
        { env: world.backend.env }
      )
      expect(run.code, printed(run)).toBe(0)
      expect(annotations(run, 'warning')).toContainEqual(
        expect.stringMatching(
          /^Could not list this run's artifacts to check that the name 'listing-fails' is free \(.*\); going on\.$/
        )
      )
      expect(world.backend.artifacts.get('listing-fails')?.finalized).toBe(true)
      expect(run.outputs[Outputs.ArtifactId]).toBe(
        String(world.backend.artifacts.get('listing-fails')?.id)
      )
      world.expectNoSecrets(run)
    } finally {
      world.backend.failListing = false
    }
  })
})

describe('Retry-After above the backoff ceiling (30 s)', () => {
  it("an API answer's 45 s is waited in full, not cut to the ceiling", async () => {
    const run = await untilRetry({ [Inputs.RequestId]: '802', [Inputs.Mode]: 'files' })
    expect(annotations(run, 'warning')).toContainEqual(
      expect.stringMatching(
        /^GET \/v3\/requests\/802 failed \(.*HTTP 429.*\); retry 1 of \d+ in 45s$/
      )
    )
    expect(failureOf(run)).toMatch(/Cancelled by SIGTERM/)
  })

  it("a file host's 600 s is taken as the five minutes the action waits at most", async () => {
    const run = await untilRetry({ [Inputs.RequestId]: '803', [Inputs.Mode]: 'files' })
    expect(annotations(run, 'warning')).toContainEqual(
      expect.stringMatching(/803_1\.csv .*failed \(.*HTTP 503.*\); retry 1 of \d+ in 5m(0s)?$/)
    )
    expect(failureOf(run)).toMatch(/Cancelled by SIGTERM/)
  })
})

describe('a resumed file', () => {
  it('is resumed from where the connection broke, and its manifest sha256 is that of its bytes', async () => {
    const before = world.sim.log.length
    const run = await world.run(
      { [Inputs.RequestId]: '804', [Inputs.Mode]: 'files', [Inputs.StallTimeout]: '2s' },
      { env: world.backend.env }
    )
    expect(run.code, printed(run)).toBe(0)
    const ranges = world.sim.log
      .slice(before)
      .filter(entry => entry.server === 'files' && entry.path.includes('/804_1.csv?'))
      .map(entry => entry.headers.range)
    // The probe, the first GET (cut), then the rest from where it broke: not from the start.
    expect(ranges.some(range => /^bytes=[1-9]\d*-$/.test(range ?? ''))).toBe(true)
    const dir = run.outputs[Outputs.DownloadPath] ?? ''
    const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST_NAME), 'utf8')) as {
      files: { name: string; sha256: string }[]
    }
    expect(manifest.files).toEqual([
      expect.objectContaining({ name: '804_1.csv', sha256: sha256(big.body) })
    ])
    expect(fileHashes(run)).toEqual([sha256(big.body)])
    expect(partFiles(dir)).toEqual([])
  })
})
