import { describe, expect, it } from 'vitest'
import type {
  CallOptions,
  DatafinitiClient,
  DownloadState,
  ResultFile
} from '../../../src/api/client.js'
import { FatalError } from '../../../src/support/errors.js'
import type { QuerySpec } from '../../../src/domain/model.js'
import type { Logger } from '../../../src/support/log.js'
import { fakeClock, type FakeClock } from '../../helpers/clock.js'
import { rejection } from '../../helpers/errors.js'
import { recordingLog, type RecordingLog } from '../../helpers/log.js'
import { progressLine, waitForResults, type WaitOptions } from '../../../src/api/wait.js'

const START = 1_700_000_000_000

/** All that waitForResults needs of a client: it never creates a download. */
type WaitClient = Pick<DatafinitiClient, 'getRequest' | 'getResults'>

/** Info and warning lines, tagged: what the wait says and at which level; debug is left out. */
const waitLog = (): RecordingLog => recordingLog({ levels: ['info', 'warning'], tagged: true })

function state(status: string, extra: Partial<DownloadState> = {}): DownloadState {
  const upper = status.toUpperCase()
  return {
    status,
    phase: upper === 'COMPLETED' ? 'completed' : upper === 'FAILED' ? 'failed' : 'pending',
    error: '',
    numDownloaded: undefined,
    numRequested: undefined,
    format: 'csv',
    ...extra
  }
}

const FILES: ResultFile[] = [
  { url: 'https://s3.example/a.csv', expiresAt: new Date(START) },
  { url: 'https://s3.example/b.csv', expiresAt: undefined }
]

/** Replays states and results in order; the last entry repeats. */
function fakeClient(
  states: DownloadState[],
  results: (ResultFile[] | undefined)[] = [FILES],
  clock?: FakeClock
) {
  const calls: { method: string; id: string; options: CallOptions | undefined; at: number }[] = []
  let s = 0
  let r = 0
  const client: WaitClient = {
    getRequest: (id, options) => {
      calls.push({ method: 'getRequest', id, options, at: clock?.time ?? 0 })
      const next = states[Math.min(s++, states.length - 1)] as DownloadState
      return Promise.resolve(next)
    },
    getResults: (id, options) => {
      calls.push({ method: 'getResults', id, options, at: clock?.time ?? 0 })
      return Promise.resolve(results[Math.min(r++, results.length - 1)])
    }
  }
  return { client, calls }
}

function options(clock: FakeClock, log: Logger, extra: Partial<WaitOptions> = {}): WaitOptions {
  return { pollIntervalMs: 30_000, waitTimeoutMs: 3_600_000, clock, log, ...extra }
}

/** The progress line of a download at `status` with `done` of `total` records, `ms` in. */
function line(status: string, done: number, total: number, ms: number): string {
  return progressLine(state(status, { numDownloaded: done, numRequested: total }), ms)
}

describe('progressLine', () => {
  it('shows status, counts, share, elapsed time and a proportional ETA', () => {
    // ETA = (95378 - 41200) * 190000 / 41200 ms ≈ 249.85 s ≈ 4m10s
    expect(line('STARTED', 41_200, 95_378, 190_000)).toBe(
      'STARTED 41,200 / 95,378 records (43%), 3m10s elapsed, about 4m10s left'
    )
  })

  it('scales the ETA with the remaining share', () => {
    expect(line('STARTED', 250, 1000, 60_000)).toBe(
      'STARTED 250 / 1,000 records (25%), 1m elapsed, about 3m left'
    )
    expect(line('STARTED', 500, 1000, 60_000)).toBe(
      'STARTED 500 / 1,000 records (50%), 1m elapsed, about 1m left'
    )
    expect(line('STARTED', 900, 1000, 90_000)).toBe(
      'STARTED 900 / 1,000 records (90%), 1m30s elapsed, about 10s left'
    )
  })

  it('rounds the share down and caps it at 100%', () => {
    expect(line('STARTED', 999, 1000, 0)).toContain('(99%)')
    expect(line('COMPLETED', 1200, 1000, 5_000)).toBe(
      'COMPLETED 1,200 / 1,000 records (100%), 5s elapsed'
    )
  })

  it('has no ETA when nothing or everything is done, or no time has passed', () => {
    expect(line('STARTED', 0, 100, 10_000)).toBe('STARTED 0 / 100 records (0%), 10s elapsed')
    expect(line('COMPLETED', 100, 100, 10_000)).toBe(
      'COMPLETED 100 / 100 records (100%), 10s elapsed'
    )
    expect(line('STARTED', 5, 100, 0)).toBe('STARTED 5 / 100 records (5%), 0ms elapsed')
  })

  it('leaves out the counts when they are unknown or the total is zero', () => {
    expect(progressLine(state('QUEUED'), 2_000)).toBe('QUEUED, 2s elapsed')
    expect(progressLine(state('QUEUED', { numDownloaded: 5 }), 2_000)).toBe('QUEUED, 2s elapsed')
    expect(progressLine(state('QUEUED', { numDownloaded: 0, numRequested: 0 }), 2_000)).toBe(
      'QUEUED, 2s elapsed'
    )
  })
})

describe('waitForResults', () => {
  it('polls until completed, then returns the state, results and time waited', async () => {
    const clock = fakeClock(START)
    const log = waitLog()
    const done = state('COMPLETED', { numDownloaded: 10, numRequested: 10 })
    const { client, calls } = fakeClient(
      [state('QUEUED'), state('STARTED', { numDownloaded: 5, numRequested: 10 }), done],
      [FILES],
      clock
    )
    const completed = await waitForResults(client, '6073', options(clock, log))
    expect(completed.state).toEqual(done)
    expect(completed.results).toBe(FILES)
    expect(completed.waitedMs).toBe(60_000)
    expect(clock.sleeps).toEqual([30_000, 30_000])
    expect(calls.map(c => c.method)).toEqual([
      'getRequest',
      'getRequest',
      'getRequest',
      'getResults'
    ])
    expect(calls.every(c => c.id === '6073')).toBe(true)
    expect(log.lines).toEqual([
      'info: QUEUED, 0ms elapsed',
      'info: STARTED 5 / 10 records (50%), 30s elapsed, about 30s left',
      'info: COMPLETED 10 / 10 records (100%), 1m elapsed; 2 result file(s) ready'
    ])
  })

  it('returns at once when the request is already complete', async () => {
    const clock = fakeClock(START)
    const { client } = fakeClient([state('COMPLETED')])
    const completed = await waitForResults(client, '1', options(clock, waitLog()))
    expect(completed.waitedMs).toBe(0)
    expect(clock.sleeps).toEqual([])
  })

  it('passes the absolute deadline to every API call', async () => {
    const clock = fakeClock(START)
    const { client, calls } = fakeClient([state('STARTED'), state('COMPLETED')], [FILES], clock)
    await waitForResults(client, '1', options(clock, waitLog(), { waitTimeoutMs: 600_000 }))
    expect(calls).toHaveLength(3)
    for (const call of calls) expect(call.options).toEqual({ deadline: START + 600_000 })
  })

  it('keeps polling while the results are not listed yet (404 → undefined)', async () => {
    const clock = fakeClock(START)
    const log = waitLog()
    const { client, calls } = fakeClient([state('COMPLETED')], [undefined, undefined, FILES], clock)
    const completed = await waitForResults(client, '1', options(clock, log))
    expect(completed.results).toBe(FILES)
    expect(completed.waitedMs).toBe(60_000)
    expect(clock.sleeps).toEqual([30_000, 30_000])
    expect(calls.filter(c => c.method === 'getResults')).toHaveLength(3)
    expect(calls.filter(c => c.method === 'getRequest')).toHaveLength(3)
    expect(log.lines[0]).toBe('info: COMPLETED, result files not listed yet, 0ms elapsed')
  })

  it('throws a FatalError quoting the API error for a failed request', async () => {
    const clock = fakeClock(START)
    const { client, calls } = fakeClient([
      state('STARTED'),
      state('FAILED', { error: 'Query exceeded the record limit' })
    ])
    const error = await rejection(waitForResults(client, '6073', options(clock, waitLog())))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toBe(
      'Datafiniti download request 6073 failed (status FAILED): "Query exceeded the record limit".'
    )
    expect(calls.map(c => c.method)).toEqual(['getRequest', 'getRequest'])
  })

  it('fails on an error even when the status looks complete, and without fetching results', async () => {
    const clock = fakeClock(START)
    const { client, calls } = fakeClient([
      { ...state('COMPLETED'), phase: 'failed', error: 'partial data' }
    ])
    const error = await rejection(waitForResults(client, '1', options(clock, waitLog())))
    expect(error.message).toContain('"partial data"')
    expect(error.message).toContain('status COMPLETED')
    expect(calls.map(c => c.method)).toEqual(['getRequest'])
  })

  it('omits the quote when a failed request has no error text', async () => {
    const clock = fakeClock(START)
    const { client } = fakeClient([state('FAILED')])
    const error = await rejection(waitForResults(client, '1', options(clock, waitLog())))
    expect(error.message).toBe('Datafiniti download request 1 failed (status FAILED).')
  })

  it('returns a completed request that lists no result files: the pipeline decides', async () => {
    const clock = fakeClock(START)
    const { client } = fakeClient([state('COMPLETED')], [[]])
    const done = await waitForResults(client, '6073', options(clock, waitLog()))
    expect(done.state.status).toBe('COMPLETED')
    expect(done.results).toEqual([])
  })

  it('times out with the last status, progress and a pointer to wait-timeout', async () => {
    const clock = fakeClock(START)
    const { client, calls } = fakeClient(
      [state('STARTED', { numDownloaded: 41_200, numRequested: 95_378 })],
      [FILES],
      clock
    )
    const error = await rejection(
      waitForResults(
        client,
        '6073',
        options(clock, waitLog(), { pollIntervalMs: 30_000, waitTimeoutMs: 100_000 })
      )
    )
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain('wait-timeout 1m40s')
    expect(error.message).toContain("'wait-timeout'")
    expect(error.message).toContain('6073')
    expect(error.message).toContain('STARTED 41,200 / 95,378 records (43%)')
    // Sleeps never pass the deadline: the last one is the remainder.
    expect(clock.sleeps).toEqual([30_000, 30_000, 30_000, 10_000])
    expect(clock.time).toBe(START + 100_000)
    // One last look at the deadline itself before giving up.
    expect(calls.map(c => c.at)).toEqual([
      START,
      START + 30_000,
      START + 60_000,
      START + 90_000,
      START + 100_000
    ])
  })

  it('times out naming a completed request whose results never appear', async () => {
    const clock = fakeClock(START)
    const { client } = fakeClient([state('COMPLETED')], [undefined], clock)
    const error = await rejection(
      waitForResults(
        client,
        '1',
        options(clock, waitLog(), { pollIntervalMs: 20_000, waitTimeoutMs: 50_000 })
      )
    )
    expect(error.message).toContain('last seen COMPLETED with no result files listed yet')
    expect(clock.sleeps).toEqual([20_000, 20_000, 10_000])
  })

  it('accounts for time spent in API calls when sizing the sleeps', async () => {
    const clock = fakeClock(START)
    const slow: WaitClient = {
      getRequest: () => {
        clock.time += 25_000
        return Promise.resolve(state('STARTED'))
      },
      getResults: () => Promise.resolve(FILES)
    }
    await expect(
      waitForResults(
        slow,
        '1',
        options(clock, waitLog(), { pollIntervalMs: 30_000, waitTimeoutMs: 60_000 })
      )
    ).rejects.toThrow(/wait-timeout/)
    // 25 s into the wait: min(30 s, 35 s left); then 80 s in: over the deadline.
    expect(clock.sleeps).toEqual([30_000])
    expect(clock.sleeps.every(ms => ms > 0)).toBe(true)
  })

  it('sleeps with the poll interval when it is the smaller', async () => {
    const clock = fakeClock(START)
    const { client } = fakeClient([state('QUEUED'), state('QUEUED'), state('COMPLETED')])
    await waitForResults(client, '1', options(clock, waitLog(), { pollIntervalMs: 1_500 }))
    expect(clock.sleeps).toEqual([1_500, 1_500])
  })

  it('stops at once when the signal is already aborted', async () => {
    const clock = fakeClock(START)
    const { client, calls } = fakeClient([state('QUEUED')])
    const reason = new Error('cancelled')
    await expect(
      waitForResults(client, '1', options(clock, waitLog(), { signal: AbortSignal.abort(reason) }))
    ).rejects.toBe(reason)
    expect(calls).toEqual([])
  })

  it('stops polling when the signal aborts between polls', async () => {
    const clock = fakeClock(START)
    const controller = new AbortController()
    const reason = new Error('cancelled')
    const client: WaitClient = {
      getRequest: () => {
        controller.abort(reason)
        return Promise.resolve(state('QUEUED'))
      },
      getResults: () => Promise.resolve(FILES)
    }
    await expect(
      waitForResults(client, '1', options(clock, waitLog(), { signal: controller.signal }))
    ).rejects.toBe(reason)
    expect(clock.sleeps).toEqual([])
  })

  it('lets errors from the client propagate unchanged', async () => {
    const clock = fakeClock(START)
    const boom = new FatalError('token rejected')
    const client: WaitClient = {
      getRequest: () => Promise.reject(boom),
      getResults: () => Promise.resolve(FILES)
    }
    await expect(waitForResults(client, '1', options(clock, waitLog()))).rejects.toBe(boom)
  })
})

describe('waitForResults with a full client', () => {
  it('never creates a download: it only reads the request and its results', async () => {
    const clock = fakeClock(START)
    const created: QuerySpec[] = []
    const client: DatafinitiClient = {
      createDownload: spec => {
        created.push(spec)
        return Promise.reject(new Error('must not create'))
      },
      countMatches: () => Promise.reject(new Error('must not count')),
      getRequest: () => Promise.resolve(state('COMPLETED')),
      getResults: () => Promise.resolve(FILES)
    }
    const completed = await waitForResults(client, 'abc', options(clock, waitLog()))
    expect(completed.results).toBe(FILES)
    expect(created).toEqual([])
  })

  it('names an opaque v4 id in its errors', async () => {
    const clock = fakeClock(START)
    const { client } = fakeClient([state('FAILED', { error: 'quota' })])
    const error = await rejection(
      waitForResults(client, '5f1e2d3c4b5a69788796a5b4', options(clock, waitLog()))
    )
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toContain('5f1e2d3c4b5a69788796a5b4')
    expect(error.message).toContain('"quota"')
  })
})
