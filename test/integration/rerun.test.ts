/**
 * Re-runs through dist/index.js, against the simulator and the local Results service (artifacts
 * and the Actions cache on Azurite): an artifact name already on the run fails in seconds or, with
 * `overwrite`, is replaced; a download created by one attempt is picked up by the next.
 */
import { createServer } from 'node:net'
import AdmZip from 'adm-zip'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { failureOf, printed } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import { useWorld } from '../helpers/world.js'

const TOKEN = 'tok_rerun_7c1d44e0a9'
const csv = awkwardCsv(120, 77)

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      { id: 501, files: [{ name: '501_1.csv', body: bufferBody(csv.body) }] },
      { id: 502, pollsUntilComplete: 3, files: [{ name: '502_1.csv', body: bufferBody(csv.body) }] }
    ],
    queries: {
      'country:US AND category:hotels': {
        numFound: 120,
        // Attempt 1 gives up (wait-timeout) long before this; attempt 2 polls on to completion.
        pollsUntilComplete: 12,
        files: id => [{ name: `${id}_1.csv`, body: bufferBody(csv.body) }]
      }
    }
  },
  { artifacts: true }
)

const fileRequests = (): number => world.sim.log.filter(entry => entry.server === 'files').length
const clash = (name: string): string =>
  `An artifact named '${name}' is already on this workflow run (from an earlier attempt of a ` +
  `re-run, or another step). Set 'overwrite: true' to replace it, or give another 'artifact-name'.`

describe('an artifact name already on the run', () => {
  it('fails in seconds, before any file request, in a later attempt and in another job', async () => {
    const first = await world.run({ [Inputs.RequestId]: '501' }, { env: world.backend.env })
    expect(first.code, printed(first)).toBe(0)
    const firstId = world.backend.artifacts.get('datafiniti-501')?.id

    for (const env of [
      world.backend.envFor({ attempt: 2 }),
      world.backend.envFor({ job: 'another-job' })
    ]) {
      const files = fileRequests()
      const polls = world.sim.polls(501)
      const started = Date.now()
      const again = await world.run({ [Inputs.RequestId]: '501' }, { env })
      expect(again.code).toBe(1)
      expect(failureOf(again)).toBe(clash('datafiniti-501'))
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(fileRequests()).toBe(files)
      expect(world.sim.polls(501)).toBe(polls)
      world.expectNoSecrets(again)
    }
    expect(world.backend.artifacts.get('datafiniti-501')?.id).toBe(firstId)
  })

  it('with overwrite: true, deletes the old artifact and uploads the new one', async () => {
    const inputs = { [Inputs.RequestId]: '501', [Inputs.ArtifactName]: 'weekly-hotels' }
    const first = await world.run(inputs, { env: world.backend.env })
    expect(first.code, printed(first)).toBe(0)
    const old = world.backend.artifacts.get('weekly-hotels')?.id

    const calls = world.backend.calls.length
    const again = await world.run(
      { ...inputs, [Inputs.Overwrite]: 'true' },
      { env: world.backend.envFor({ attempt: 2 }) }
    )
    expect(again.code, printed(again)).toBe(0)
    const replaced = world.backend.artifacts.get('weekly-hotels')
    expect(replaced?.id).toBeGreaterThan(old ?? Infinity)
    expect(again.outputs[Outputs.ArtifactId]).toBe(String(replaced?.id))
    expect(world.backend.calls.slice(calls).filter(c => !c.startsWith('Cache'))).toEqual([
      // the check before the wait, the check before the upload, the toolkit's own look-up
      'ArtifactService/ListArtifacts ',
      'ArtifactService/ListArtifacts ',
      'ArtifactService/ListArtifacts weekly-hotels',
      'ArtifactService/DeleteArtifact weekly-hotels',
      'ArtifactService/CreateArtifact weekly-hotels',
      'ArtifactService/FinalizeArtifact weekly-hotels'
    ])
    expect(again.stdout).toContain(`Deleted the earlier artifact 'weekly-hotels' (id ${old})`)
    const zip = new AdmZip(await world.backend.download('weekly-hotels'))
    expect(sha256(zip.getEntry('501_1.csv')?.getData() ?? Buffer.alloc(0))).toBe(sha256(csv.body))
  })

  it("turns the service's 409 of a name taken meanwhile into the same clear message", async () => {
    // Two jobs of one run, started together: both find the name free, one uploads first.
    const inputs = { [Inputs.RequestId]: '502', [Inputs.ArtifactName]: 'race' }
    const runs = await Promise.all([
      world.run(inputs, { env: world.backend.envFor({ job: 'a' }) }),
      world.run(inputs, { env: world.backend.envFor({ job: 'b' }) })
    ])
    expect(runs.map(run => run.code).sort()).toEqual([0, 1])
    const lost = runs.find(run => run.code === 1)
    expect(lost && failureOf(lost)).toBe(clash('race'))
    expect(lost?.stdout).not.toContain('(409) Conflict')
  })
})

describe('a re-run of a query workflow', () => {
  const query = {
    [Inputs.Query]: 'country:US AND category:hotels',
    [Inputs.DataType]: 'businesses',
    [Inputs.NumRecords]: '120',
    [Inputs.Mode]: 'files'
  }

  it('picks up the request attempt 1 created, and buys it once; another run or query buys anew', async () => {
    const created = world.sim.created.length
    const step = { GITHUB_ACTION: 'fetch-hotels' }
    const attempt1 = await world.run(
      { ...query, [Inputs.WaitTimeout]: '150ms' },
      { env: { ...world.backend.envFor({ runId: '9001' }), ...step } }
    )
    expect(attempt1.code).toBe(1)
    expect(failureOf(attempt1)).toMatch(/wait-timeout/)
    expect(world.sim.created.length - created).toBe(1)
    const id = world.sim.created.at(-1)?.id ?? ''
    expect(attempt1.outputs[Outputs.RequestId]).toBe(id)
    expect(attempt1.stdout).toMatch(new RegExp(`Remembered request ${id} for re-runs`))

    const attempt2 = await world.run(query, {
      env: { ...world.backend.envFor({ runId: '9001', attempt: 2 }), ...step }
    })
    expect(attempt2.code, printed(attempt2)).toBe(0)
    expect(world.sim.created.length - created).toBe(1)
    expect(attempt2.outputs[Outputs.RequestId]).toBe(id)
    expect(attempt2.stdout).toContain(
      `Reusing download request ${id}: an earlier attempt of this run (same job, step and query inputs) created it`
    )
    expect(attempt2.outputs[Outputs.Status]).toBe('COMPLETED')
    expect(attempt2.outputs[Outputs.RowCount]).toBe('120')
    world.expectNoSecrets(attempt2)
    // The token is in no cache key.
    for (const entry of world.backend.cache.entries) expect(entry.key).not.toContain(TOKEN)

    // Another run, other query inputs, or reuse switched off: a new download each.
    const others = [
      [query, { ...world.backend.envFor({ runId: '9002' }), ...step }],
      [
        { ...query, [Inputs.NumRecords]: '100' },
        { ...world.backend.envFor({ runId: '9001', attempt: 3 }), ...step }
      ],
      [
        { ...query, [Inputs.ReuseRequest]: 'false' },
        { ...world.backend.envFor({ runId: '9001', attempt: 4 }), ...step }
      ]
    ] as const
    for (const [inputs, env] of others) {
      const before = world.sim.created.length
      const run = await world.run(inputs, { env })
      expect(run.code, printed(run)).toBe(0)
      expect(world.sim.created.length - before).toBe(1)
      expect(run.outputs[Outputs.RequestId]).not.toBe(id)
    }
  })

  it('warns and creates when the cache service is down; the run succeeds', async () => {
    const closed = await new Promise<number>(resolve => {
      const server = createServer()
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
    })
    const before = world.sim.created.length
    const run = await world.run(
      { ...query, [Inputs.Query]: 'country:US AND category:hotels' },
      {
        env: {
          ...world.backend.envFor({ runId: '9100' }),
          ACTIONS_RESULTS_URL: `http://127.0.0.1:${closed}/`
        }
      }
    )
    expect(run.code, printed(run)).toBe(0)
    expect(world.sim.created.length - before).toBe(1)
    expect(run.stdout).toMatch(/::warning::.*(restore|look up)/i)
    world.expectNoSecrets(run)
  })
})
