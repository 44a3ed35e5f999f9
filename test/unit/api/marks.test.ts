import { describe, expect, it } from 'vitest'
import { asMark, leaveMark, planWindow, type MarkStore } from '../../../src/api/marks.js'
import type { Mark, MarkScope, WindowSpec } from '../../../src/domain/window.js'
import { FatalError } from '../../../src/support/errors.js'
import type { Logger } from '../../../src/support/log.js'

const NOW = new Date('2026-12-08T06:17:00Z')
const scope: MarkScope = {
  name: 'datafiniti-mark-0123456789abcdef0123456789abcdef',
  queryHash: 'q1',
  runId: '300',
  runAttempt: '1'
}
const lastSuccess: WindowSpec = { since: { kind: 'last-success' }, field: 'dateUpdated', scope }
const mark = (createdAt: string, extra: Partial<Mark> = {}): Mark => ({
  version: 1,
  createdAt,
  field: 'dateUpdated',
  queryHash: 'q1',
  runId: '200',
  requestId: '88',
  ...extra
})

function logger() {
  const lines: string[] = []
  const log: Logger = {
    info: m => lines.push(`info ${m}`),
    warning: m => lines.push(`warning ${m}`),
    debug: () => undefined
  }
  return { log, lines }
}

/** A store of plain values; a thrown value stands for a store that cannot be read. */
function store(options: {
  cache?: Mark | Error | undefined
  durable?: Mark | Error | undefined
  noCache?: string
  failSave?: ('cache' | 'durable')[]
}) {
  const calls: string[] = []
  const answer = (value: Mark | Error | undefined): Promise<Mark | undefined> =>
    value instanceof Error ? Promise.reject(value) : Promise.resolve(value)
  const marks: MarkStore = {
    cacheUnavailable: () => options.noCache,
    fromCache: () => (calls.push('fromCache'), answer(options.cache)),
    fromDurable: () => (calls.push('fromDurable'), answer(options.durable)),
    toCache: (_scope, saved) => {
      calls.push(`toCache ${saved.createdAt}`)
      return options.failSave?.includes('cache')
        ? Promise.reject(new Error('cache down'))
        : Promise.resolve()
    },
    toDurable: (_scope, saved) => {
      calls.push(`toDurable ${saved.createdAt}`)
      return options.failSave?.includes('durable')
        ? Promise.reject(new Error('no runtime'))
        : Promise.resolve()
    }
  }
  return { marks, calls }
}

describe('planWindow', () => {
  it('a duration: the window ending when the run starts, from the start of that day', async () => {
    const { log, lines } = logger()
    const spec: WindowSpec = {
      since: { kind: 'ago', ms: 7 * 86_400_000 },
      field: 'dateUpdated',
      scope: undefined
    }
    const window = await planWindow(spec, store({}).marks, NOW, log)
    expect(window).toEqual({
      field: 'dateUpdated',
      from: new Date('2026-12-01T00:00:00Z'),
      to: NOW
    })
    expect(lines[0]).toMatch(
      /^info Window: records whose dateUpdated is on or after 2026-12-01 \(UTC;/
    )
  })

  it('a date: from then on; a future one warns', async () => {
    const { log, lines } = logger()
    const from = new Date('2027-01-01T00:00:00Z')
    const spec: WindowSpec = { since: { kind: 'date', from }, field: 'dateAdded', scope: undefined }
    expect(await planWindow(spec, store({}).marks, NOW, log)).toEqual({
      field: 'dateAdded',
      from,
      to: NOW
    })
    expect(lines.at(-1)).toMatch(/^warning 'since' is in the future/)
  })

  it('last-success: the cache first, without asking the durable store', async () => {
    const { marks, calls } = store({ cache: mark('2026-12-01T06:17:30Z'), durable: new Error('x') })
    const { log, lines } = logger()
    const window = await planWindow(lastSuccess, marks, NOW, log)
    expect(window?.from).toEqual(new Date('2026-12-01T00:00:00Z'))
    expect(calls).toEqual(['fromCache'])
    expect(lines.join('\n')).toContain(
      'run 200 created its download at 2026-12-01T06:17:30.000Z (mark read from the Actions cache)'
    )
  })

  it('last-success: the durable copy when the cache misses, fails or is not there', async () => {
    for (const cache of [
      undefined,
      new Error('twirp 500'),
      mark('2026-12-01T00:00:00Z', { queryHash: 'other' })
    ]) {
      const { marks, calls } = store({ cache, durable: mark('2026-10-01T08:00:00Z') })
      const window = await planWindow(lastSuccess, marks, NOW, logger().log)
      expect(window?.from).toEqual(new Date('2026-10-01T00:00:00Z'))
      expect(calls).toEqual(['fromCache', 'fromDurable'])
    }
    const { marks, calls } = store({
      noCache: 'no Actions cache service here',
      durable: mark('2026-10-01T08:00:00Z')
    })
    const { log, lines } = logger()
    await planWindow(lastSuccess, marks, NOW, log)
    expect(calls).toEqual(['fromDurable'])
    expect(lines[0]).toContain('No mark in the Actions cache: no Actions cache service here.')
  })

  it('last-success: a readable store without a mark is a first run, and says so', async () => {
    const { log, lines } = logger()
    expect(await planWindow(lastSuccess, store({}).marks, NOW, log)).toBeUndefined()
    expect(lines.at(-1)).toMatch(
      /^info First run: no successful run .* takes every record the query matches/
    )
  })

  it('last-success: no mark readable anywhere fails before buying, naming why and the fix', async () => {
    const { marks } = store({
      durable: new Error('the GitHub API answered 403 to listing the repository artifacts')
    })
    const failed = planWindow(lastSuccess, marks, NOW, logger().log)
    await expect(failed).rejects.toThrow(FatalError)
    await expect(failed).rejects.toThrow(
      "'since: last-success' cannot tell which records are new, so nothing was bought: the Actions cache holds no mark " +
        '(an entry not read for 7 days is evicted), and the durable copy of the mark could not be read (the GitHub API ' +
        "answered 403 to listing the repository artifacts). Grant the job 'permissions: actions: read' (the mark is kept " +
        `as artifact ${scope.name} and read with 'github-token'), or set 'since' to a date or a duration for this run.`
    )
  })
})

describe('leaveMark', () => {
  it('keeps the mark in the cache and the durable store', async () => {
    const { marks, calls } = store({})
    const { log, lines } = logger()
    await leaveMark(scope, mark('2026-12-08T06:17:00.000Z'), marks, log)
    expect(calls).toEqual([
      'toCache 2026-12-08T06:17:00.000Z',
      'toDurable 2026-12-08T06:17:00.000Z'
    ])
    expect(lines).toEqual([
      `info Left the mark for the next run: 2026-12-08T06:17:00.000Z, in the Actions cache and artifact ${scope.name}.`
    ])
  })

  it('warns, never fails, when a store cannot keep it; says what that means when neither can', async () => {
    const one = logger()
    await leaveMark(
      scope,
      mark('2026-12-08T06:17:00Z'),
      store({ failSave: ['durable'] }).marks,
      one.log
    )
    expect(one.lines.at(-1)).toBe(
      `warning Could not keep the 'since: last-success' mark in artifact ${scope.name} (no runtime).`
    )
    const both = logger()
    await leaveMark(
      scope,
      mark('2026-12-08T06:17:00Z'),
      store({ failSave: ['cache', 'durable'] }).marks,
      both.log
    )
    expect(both.lines).toEqual([
      expect.stringMatching(
        /^warning Could not keep .* in the Actions cache \(cache down\) or artifact .*: the next run starts from the earlier mark/
      )
    ])
  })
})

describe('asMark', () => {
  it('takes a mark and nothing else', () => {
    expect(asMark(mark('2026-12-08T06:17:00Z'))).toEqual(mark('2026-12-08T06:17:00Z'))
    for (const value of [null, 'x', {}, { ...mark('x'), version: 2 }, { ...mark('x'), runId: 7 }])
      expect(asMark(value)).toBeUndefined()
  })
})
