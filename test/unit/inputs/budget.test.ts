import { describe, expect, it } from 'vitest'
import { Inputs } from '../../../src/domain/action-io.js'
import { parseBudget } from '../../../src/inputs/budget.js'
import { parseSettings } from '../../../src/inputs/settings.js'
import { expectInputError, inputEnv as env, queryInputs } from '../../helpers/inputs.js'

const QUERY = queryInputs('categories:hotels', 'businesses', {
  [Inputs.Token]: 'tok_budget',
  [Inputs.ApiVersion]: 'v4'
})

function rejection(inputs: Record<string, string>): string {
  return expectInputError(() => parseSettings(env(inputs), '/cwd')).message
}

describe('parseBudget', () => {
  it('is off by default: no limit, no dry run', () => {
    expect(parseBudget(env({}), true, 'v4')).toEqual({ maxRecords: undefined, dryRun: false })
    expect(parseBudget(env({ [Inputs.DryRun]: 'false' }), false, 'v3')).toEqual({
      maxRecords: undefined,
      dryRun: false
    })
  })

  it('reads max-records and dry-run with a v4 query', () => {
    expect(
      parseBudget(env({ [Inputs.MaxRecords]: ' 10000 ', [Inputs.DryRun]: 'TRUE' }), true, 'v4')
    ).toEqual({ maxRecords: 10_000, dryRun: true })
  })

  it.each(['0', '-5', '1.5', '10k', 'all', '99999999999999999999'])(
    'rejects max-records %j, naming the input and the expected form',
    raw => {
      expect(rejection({ ...QUERY, [Inputs.MaxRecords]: raw })).toMatch(
        /^Input 'max-records' must be a positive whole number such as 10000: .*; got "/
      )
    }
  )

  it('rejects a dry-run that is not a boolean', () => {
    expect(rejection({ ...QUERY, [Inputs.DryRun]: 'yes' })).toBe(
      `Input 'dry-run' must be true or false; got "yes".`
    )
  })

  it.each([
    [{ [Inputs.MaxRecords]: '10' }, `Input 'max-records' only applies with 'query'`],
    [{ [Inputs.DryRun]: 'true' }, `Input 'dry-run' only applies with 'query'`],
    [
      { [Inputs.MaxRecords]: '10', [Inputs.DryRun]: 'true' },
      `Inputs 'max-records' and 'dry-run' only apply with 'query'`
    ]
  ])('with request-id, %j is an input error', (given, message) => {
    const said = rejection({
      [Inputs.Token]: 'tok_budget',
      [Inputs.ApiVersion]: 'v4',
      [Inputs.RequestId]: 'abc',
      ...given
    })
    expect(said).toContain(message)
    expect(said).toContain('is bought already')
  })

  it('needs API v4, the one version that counts without buying', () => {
    expect(rejection({ ...QUERY, [Inputs.ApiVersion]: 'v3', [Inputs.DryRun]: 'true' })).toMatch(
      /^Input 'dry-run' needs 'api-version: v4': API v3 cannot count a query's matches without creating \(and paying for\) the download\.$/
    )
  })

  it('lands in the settings', () => {
    const settings = parseSettings(env({ ...QUERY, [Inputs.MaxRecords]: '500' }), '/cwd')
    expect(settings).toMatchObject({ maxRecords: 500, dryRun: false })
  })
})
