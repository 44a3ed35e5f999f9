/**
 * `since` through dist/index.js, against the simulator (records with dates, which a range in the
 * query filters) and the local Results service (the Actions cache, artifacts, and the REST API that
 * lists artifacts across runs): a schedule of `last-success` runs buys every record once, a failed
 * run leaves the mark, the mark outlives the cache's eviction, and bad values stop before any request.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { GITHUB_TOKEN, GITHUB_TOKEN_NO_ACTIONS } from '../../sim/artifact-backend.js'
import { failureOf, printed, type ActionRun } from '../../sim/runner.js'
import type { SimQuery, SimRecord } from '../../sim/simulator.js'
import { outputFiles, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_incr_5e1f0c2b9a'
const DAY = 86_400_000
// An OR: the window must not bind to its second half.
const QUERY = 'categories:cosmetics OR categories:skincare'
const LONG_GAP_QUERY = 'country:US AND categories:hotels'
const START = Date.now()

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10)
const record = (id: string, updated: number): SimRecord => ({
  id,
  name: `item ${id}`,
  dateAdded: iso(updated - 10 * DAY),
  dateUpdated: iso(updated)
})

const weekly: SimQuery = {
  records: [1, 2, 3, 4, 5].map(n => record(`r${n}`, START - (31 - n * 6) * DAY))
}
const longGap: SimQuery = { records: [record('h1', START - 60 * DAY)] }

const world = useWorld(
  { token: TOKEN, requests: [], queries: { [QUERY]: weekly, [LONG_GAP_QUERY]: longGap } },
  {
    artifacts: true,
    inputs: {
      [Inputs.Mode]: 'files',
      [Inputs.Format]: 'JSON',
      [Inputs.DataType]: 'products',
      [Inputs.NumRecords]: 'all',
      [Inputs.GithubToken]: GITHUB_TOKEN
    }
  }
)

/** The records a run bought, by id, with the dateUpdated it bought them at. */
function bought(run: ActionRun): string[] {
  return outputFiles(run).flatMap(file =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(line => line !== '')
      .map(line => {
        const r = JSON.parse(line) as SimRecord
        return `${r.id}@${r.dateUpdated}`
      })
  )
}

/** A scheduled run `days` after the first, as run `runId` of the same workflow, job and step. */
function scheduled(
  runId: string,
  days: number,
  inputs: Record<string, string> = {},
  step = 'fetch-weekly'
): Promise<ActionRun> {
  return world.run(
    { [Inputs.Query]: QUERY, [Inputs.Since]: 'last-success', ...inputs },
    {
      clockOffsetMs: days * DAY,
      env: {
        ...world.backend.envFor({ runId, job: 'fetch' }),
        GITHUB_WORKFLOW_REF: 'octo-org/weekly-data/.github/workflows/weekly.yml@refs/heads/main',
        GITHUB_ACTION: step
      }
    }
  )
}

/**
 * A scheduled run `days` ago (negative) that succeeds, with the services' clock gone back with
 * it, so that what it leaves (the mark artifact) is that old.
 */
async function scheduledLongAgo(
  runId: string,
  days: number,
  inputs: Record<string, string>,
  step: string
): Promise<ActionRun> {
  world.backend.clock.offsetMs = days * DAY
  try {
    const run = await scheduled(runId, days, inputs, step)
    expect(run.code, printed(run)).toBe(0)
    return run
  } finally {
    world.backend.clock.offsetMs = 0
  }
}

/** The mark artifacts on every run so far. */
const markArtifacts = () =>
  world.backend.allArtifacts().filter(a => a.name.startsWith('datafiniti-mark-'))

/** What the cache does to an entry nobody read for 7 days, to every mark. */
function evictMarks(): void {
  const { entries } = world.backend.cache
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i]?.key.startsWith('datafiniti-mark-')) entries.splice(i, 1)
  }
}

const createdQuery = (): string => world.sim.created.at(-1)?.query ?? ''

describe('since: last-success on a schedule', () => {
  it('buys everything once, then each window, across a failed run, without a gap', async () => {
    const all = (): string[] => (weekly.records ?? []).map(r => `${r.id}@${r.dateUpdated}`).sort()

    const first = await scheduled('9001', 0)
    expect(first.code, printed(first)).toBe(0)
    expect(createdQuery()).toBe(QUERY)
    expect(printed(first)).toContain('First run: no successful run of this workflow')
    expect(first.outputs[Outputs.Since]).toBe('')
    expect(bought(first).sort()).toEqual(all())

    // Between runs: one record changes, one is new.
    const records = weekly.records ?? []
    records[1] = record('r2', START + 1.5 * DAY)
    records.push(record('r6', START + DAY))
    const rest = world.backend.restCalls.length
    const second = await scheduled('9002', 2)
    expect(second.code, printed(second)).toBe(0)
    expect(createdQuery()).toBe(`(${QUERY}) AND dateUpdated:[${day(START)} TO *]`)
    expect(second.outputs[Outputs.Since]).toBe(`${day(START)}T00:00:00.000Z`)
    expect(printed(second)).toContain('mark read from the Actions cache')
    // The fast path: the cache held the mark, the REST API was not asked.
    expect(world.backend.restCalls.length).toBe(rest)
    expect(bought(second).sort()).toEqual([
      `r2@${iso(START + 1.5 * DAY)}`,
      `r6@${iso(START + DAY)}`
    ])
    const manifest = JSON.parse(readFileSync(second.outputs[Outputs.Manifest] ?? '', 'utf8')) as {
      version: number
      window: unknown
    }
    expect(manifest.version).toBe(2)
    expect(manifest.window).toEqual({
      field: 'dateUpdated',
      from: `${day(START)}T00:00:00.000Z`,
      to: expect.stringMatching(new RegExp(`^${day(START + 2 * DAY)}T`)) as unknown
    })

    records.push(record('r7', START + 3 * DAY))
    weekly.finalStatus = 'FAILED'
    const third = await scheduled('9003', 4)
    delete weekly.finalStatus
    expect(third.code).toBe(1)
    expect(createdQuery()).toBe(`(${QUERY}) AND dateUpdated:[${day(START + 2 * DAY)} TO *]`)

    records.push(record('r8', START + 5 * DAY))
    const fourth = await scheduled('9004', 6)
    expect(fourth.code, printed(fourth)).toBe(0)
    // From the second run's mark: the failed third run did not move it.
    expect(createdQuery()).toBe(`(${QUERY}) AND dateUpdated:[${day(START + 2 * DAY)} TO *]`)
    expect(printed(fourth)).toContain('run 9002 created its download')
    expect(bought(fourth).sort()).toEqual([
      `r7@${iso(START + 3 * DAY)}`,
      `r8@${iso(START + 5 * DAY)}`
    ])

    // Runs 1, 2 and 4 together hold every record as it is now.
    const union = new Set([...bought(first), ...bought(second), ...bought(fourth)])
    for (const r of all()) expect(union).toContain(r)
    world.expectNoSecrets(fourth, [GITHUB_TOKEN])
  }, 120_000)

  it('reads the mark from the artifact after 36 days without a run, the cache entry evicted', async () => {
    const inputs = { [Inputs.Query]: LONG_GAP_QUERY }
    const first = await scheduledLongAgo('9101', -36, inputs, 'fetch-monthly')
    expect(bought(first).sort()).toEqual([`h1@${iso(START - 60 * DAY)}`])
    const mark = markArtifacts().find(a => a.runId === '9101')
    expect(mark?.createdAt.slice(0, 10)).toBe(day(Date.now() - 36 * DAY))

    longGap.records?.push(record('h2', START - DAY))
    evictMarks()
    const second = await scheduled('9102', 0, inputs, 'fetch-monthly')
    expect(second.code, printed(second)).toBe(0)
    expect(printed(second)).toContain('the Actions cache holds no mark')
    expect(printed(second)).toContain(`mark read from artifact ${mark?.name ?? '?'}`)
    expect(createdQuery()).toBe(
      `(${LONG_GAP_QUERY}) AND dateUpdated:[${day(Date.now() - 36 * DAY)} TO *]`
    )
    expect(bought(second).sort()).toEqual([`h2@${iso(START - DAY)}`])
    world.expectNoSecrets(second, [GITHUB_TOKEN])
  }, 120_000)

  it('a mark past the artifact retention (90 days) is gone: a first run, which says so', async () => {
    const inputs = { [Inputs.Query]: LONG_GAP_QUERY }
    await scheduledLongAgo('9301', -100, inputs, 'fetch-rarely')
    evictMarks()
    const run = await scheduled('9302', 0, inputs, 'fetch-rarely')
    expect(run.code, printed(run)).toBe(0)
    expect(printed(run)).toContain('First run: no successful run')
    expect(createdQuery()).toBe(LONG_GAP_QUERY)
    expect(run.outputs[Outputs.Since]).toBe('')
  }, 120_000)

  it('a dry run counts the window and never moves the mark; max-records counts the window too', async () => {
    const inputs = { [Inputs.ApiVersion]: 'v4', [Inputs.Query]: LONG_GAP_QUERY }
    const step = 'fetch-counted'
    const first = await scheduled('9401', -10, inputs, step)
    expect(first.code, printed(first)).toBe(0)
    const marksBefore = markArtifacts()
    const created = world.sim.created.length
    const dry = await scheduled('9402', 0, { ...inputs, [Inputs.DryRun]: 'true' }, step)
    expect(dry.code, printed(dry)).toBe(0)
    expect(world.sim.created.length).toBe(created)
    // Only h2 (a day old) changed since the first run, ten days ago.
    expect(dry.outputs[Outputs.NumFound]).toBe('1')
    expect(dry.outputs[Outputs.Since]).toBe(`${day(Date.now() - 10 * DAY)}T00:00:00.000Z`)
    expect(markArtifacts()).toEqual(marksBefore)
    const guarded = await scheduled('9403', 0, { ...inputs, [Inputs.MaxRecords]: '1' }, step)
    expect(guarded.code, printed(guarded)).toBe(0)
    expect(guarded.outputs[Outputs.NumFound]).toBe('1')
    expect(bought(guarded)).toEqual([`h2@${iso(START - DAY)}`])
  }, 120_000)

  it('without a cache entry and without actions: read, fails before buying and names the fix', async () => {
    const created = world.sim.created.length
    const run = await scheduled(
      '9201',
      0,
      {
        [Inputs.Query]: LONG_GAP_QUERY,
        [Inputs.GithubToken]: GITHUB_TOKEN_NO_ACTIONS
      },
      'fetch-unreadable'
    )
    expect(run.code).toBe(1)
    expect(failureOf(run)).toContain('nothing was bought')
    expect(failureOf(run)).toContain('403')
    expect(failureOf(run)).toContain("Grant the job 'permissions: actions: read'")
    expect(failureOf(run)).toContain("or set 'since' to a date or a duration for this run")
    expect(world.sim.created.length).toBe(created)
    world.expectNoSecrets(run, [GITHUB_TOKEN_NO_ACTIONS])
  }, 60_000)
})

describe('since: a duration or a date', () => {
  it('since: 7d limits the query to the last 7 days, ANDed after the OR', async () => {
    const run = await world.run({ [Inputs.Query]: QUERY, [Inputs.Since]: '7d' })
    expect(run.code, printed(run)).toBe(0)
    const from = day(Date.now() - 7 * DAY)
    expect(createdQuery()).toBe(`(${QUERY}) AND dateUpdated:[${from} TO *]`)
    expect(run.outputs[Outputs.Since]).toBe(`${from}T00:00:00.000Z`)
    const expected = (weekly.records ?? [])
      .filter(r => r.dateUpdated >= from)
      .map(r => `${r.id}@${r.dateUpdated}`)
    expect(bought(run).sort()).toEqual(expected.sort())
  })

  it('API v4: the window goes into the search body the same way', async () => {
    const run = await world.run({
      [Inputs.ApiVersion]: 'v4',
      [Inputs.Query]: QUERY,
      [Inputs.Since]: '36h'
    })
    expect(run.code, printed(run)).toBe(0)
    const from = day(Date.now() - 36 * 3_600_000)
    expect(world.sim.created.at(-1)).toMatchObject({
      version: 'v4',
      query: `(${QUERY}) AND dateUpdated:[${from} TO *]`
    })
  })

  it('since: 2026-11-01 with since-field dateAdded', async () => {
    const run = await world.run({
      [Inputs.Query]: QUERY,
      [Inputs.Since]: '2026-11-01',
      [Inputs.SinceField]: 'dateAdded'
    })
    expect(run.code, printed(run)).toBe(0)
    expect(createdQuery()).toBe(`(${QUERY}) AND dateAdded:[2026-11-01 TO *]`)
    expect(run.outputs[Outputs.Since]).toBe('2026-11-01T00:00:00.000Z')
    const expected = (weekly.records ?? [])
      .filter(r => r.dateAdded >= '2026-11-01')
      .map(r => `${r.id}@${r.dateUpdated}`)
    expect(bought(run).sort()).toEqual(expected.sort())
  })

  it.each([
    [
      { [Inputs.Query]: QUERY, [Inputs.Since]: 'yesterday' },
      "Input 'since' must be last-success, a duration"
    ],
    [
      // The file's defaults give data-type and num-records: a request-id run has neither.
      {
        [Inputs.RequestId]: '6073',
        [Inputs.DataType]: '',
        [Inputs.NumRecords]: '',
        [Inputs.Since]: '7d'
      },
      "Input 'since' only applies with 'query'"
    ],
    [
      { [Inputs.Query]: QUERY, [Inputs.Since]: '7d', [Inputs.SinceField]: 'x y' },
      "Input 'since-field' must be a Datafiniti date field name"
    ]
  ])('%o is an input error before any request', async (inputs, message) => {
    const requests = world.sim.log.length
    const run = await world.run(inputs)
    expect(run.code).toBe(1)
    expect(failureOf(run)).toContain(message)
    expect(world.sim.log.length).toBe(requests)
  })
})
