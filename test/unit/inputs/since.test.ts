import { describe, expect, it } from 'vitest'
import { Inputs } from '../../../src/domain/action-io.js'
import { InputError } from '../../../src/inputs/read.js'
import { parseSettings } from '../../../src/inputs/settings.js'
import { parseSince } from '../../../src/inputs/since.js'
import { expectInputError, inputEnv, queryInputs } from '../../helpers/inputs.js'

const TOKEN = 'tok_since_0123456789'
const QUERY = queryInputs('categories:cosmetics OR categories:skincare', 'products')

function parse(inputs: Record<string, string>, extra: Record<string, string> = {}) {
  return parseSettings(
    inputEnv({ [Inputs.Token]: TOKEN, ...inputs }, { GITHUB_WORKSPACE: '/ws', ...extra }),
    '/cwd'
  )
}

function rejected(inputs: Record<string, string>): string {
  return expectInputError(() => parse(inputs)).message
}

describe('parseSince', () => {
  it.each([
    ['last-success', { kind: 'last-success' }],
    ['Last-Success', { kind: 'last-success' }],
    ['7d', { kind: 'ago', ms: 7 * 86_400_000 }],
    ['36h', { kind: 'ago', ms: 36 * 3_600_000 }],
    ['1d12h', { kind: 'ago', ms: 36 * 3_600_000 }],
    ['90m', { kind: 'ago', ms: 90 * 60_000 }],
    ['2026-11-01', { kind: 'date', from: new Date('2026-11-01T00:00:00Z') }],
    ['2026-11-01T06:00:00Z', { kind: 'date', from: new Date('2026-11-01T06:00:00Z') }],
    ['2026-11-01T06:00+02:00', { kind: 'date', from: new Date('2026-11-01T04:00:00Z') }]
  ])('reads %s', (raw, expected) => {
    expect(parseSince(raw)).toEqual(expected)
  })

  it.each([
    'yesterday',
    '7',
    '0d',
    'd',
    '2026-02-30',
    '2026-11-01T06:00:00',
    '7 days',
    '-7d',
    '7dd'
  ])('refuses %s, naming the input and the forms', raw => {
    expect(() => parseSince(raw)).toThrow(InputError)
    expect(() => parseSince(raw)).toThrow(
      /^Input 'since' must be last-success, a duration with a unit \(36h, 7d, 1d12h\), a date \(2026-11-01\) or a date-time with a zone/
    )
  })
})

describe('since and since-field in parseSettings', () => {
  it('no since: no window, whatever since-field says', () => {
    expect(parse(QUERY).window).toBeUndefined()
    expect(parse({ ...QUERY, [Inputs.SinceField]: 'dateAdded' }).window).toBeUndefined()
  })

  it('a duration or a date: a window without a mark scope', () => {
    expect(parse({ ...QUERY, [Inputs.Since]: '7d' }).window).toEqual({
      since: { kind: 'ago', ms: 7 * 86_400_000 },
      field: 'dateUpdated',
      scope: undefined
    })
    expect(
      parse({ ...QUERY, [Inputs.Since]: '2026-11-01', [Inputs.SinceField]: 'dateAdded' }).window
    ).toMatchObject({ field: 'dateAdded', scope: undefined })
  })

  it('last-success: a scope of the run, the job and the step', () => {
    const run = { GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '2', GITHUB_JOB: 'fetch' }
    const window = parse({ ...QUERY, [Inputs.Since]: 'last-success' }, run).window
    expect(window?.scope).toMatchObject({ runId: '77', runAttempt: '2' })
    expect(window?.scope?.name).toMatch(/^datafiniti-mark-[0-9a-f]{32}$/)
  })

  it('refuses a bad since, since without query, and a since-field that is no field name', () => {
    expect(rejected({ ...QUERY, [Inputs.Since]: 'yesterday' })).toContain(`Input 'since' must be`)
    expect(rejected({ [Inputs.RequestId]: '6073', [Inputs.Since]: '7d' })).toMatch(
      /^Input 'since' only applies with 'query'/
    )
    const field = rejected({ ...QUERY, [Inputs.Since]: '7d', [Inputs.SinceField]: 'x y' })
    expect(field).toBe(
      `Input 'since-field' must be a Datafiniti date field name such as dateUpdated or dateAdded ` +
        `(a letter, then letters, digits, '_' or '.'); got "x y".`
    )
  })

  it('refuses last-success with a capped num-records, which would skip the rest of a window', () => {
    const capped = rejected({
      ...QUERY,
      [Inputs.NumRecords]: '500',
      [Inputs.Since]: 'last-success'
    })
    expect(capped).toMatch(/^Input 'since: last-success' buys every record changed since/)
    expect(capped).toContain(`'max-records: 500'`)
    // A fixed window may be capped: it has no mark to move past what it did not buy.
    expect(
      parse({ ...QUERY, [Inputs.NumRecords]: '500', [Inputs.Since]: '7d' }).window
    ).toBeDefined()
  })

  it('takes github-token, and an unevaluated expression as none', () => {
    expect(parse({ ...QUERY, [Inputs.GithubToken]: 'ghs_abc' }).githubToken).toBe('ghs_abc')
    expect(parse({ ...QUERY, [Inputs.GithubToken]: '${{ github.token }}' }).githubToken).toBe('')
  })
})
