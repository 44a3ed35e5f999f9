import { describe, expect, it } from 'vitest'
import type { QuerySpec } from '../../../src/domain/model.js'
import { needsCount, overBudget, wouldBuy } from '../../../src/steps/estimate.js'

const spec = (numRecords: QuerySpec['numRecords']): QuerySpec => ({
  query: 'categories:hotels',
  dataType: 'businesses',
  format: 'CSV',
  numRecords,
  view: undefined
})

describe('when a run counts before buying', () => {
  it.each([
    ['all', undefined, false, false],
    [100, undefined, false, false],
    [100, undefined, true, true],
    ['all', 1000, false, true],
    [1000, 1000, false, false],
    [999, 1000, false, false],
    [1001, 1000, false, true],
    [10, 1000, true, true]
  ] as const)('num-records %s, max-records %s, dry-run %s: counts %s', (num, max, dry, counts) => {
    expect(needsCount(spec(num), { maxRecords: max, dryRun: dry })).toBe(counts)
  })
})

describe('what a download would buy, and the refusal', () => {
  it('is every match with all, else at most num-records', () => {
    expect(wouldBuy(spec('all'), 1234)).toBe(1234)
    expect(wouldBuy(spec(100), 1234)).toBe(100)
    expect(wouldBuy(spec(5000), 1234)).toBe(1234)
  })

  it('names what num-records would buy when it caps the matches', () => {
    expect(overBudget(spec(5000), 12_345, 1000)).toBe(
      "The query matches 12,345 records ('num-records' 5000 would buy 5,000), more than 'max-records' " +
        "1,000 allows: nothing was bought. Narrow the query, raise 'max-records' to at least 5000, or set " +
        "'num-records: 1000' to take only 1,000 records on purpose."
    )
  })
})
